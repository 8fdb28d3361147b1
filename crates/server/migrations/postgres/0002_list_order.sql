-- The memberships list is ordered by (name, nik, registered_seq) and filtered by satker
-- and/or status: one index per filter shape in that order, so a page walks an index
-- instead of sorting every matching row.
DROP INDEX memberships_by_satker;
CREATE INDEX memberships_by_satker_status ON memberships (satker_code, status, name, nik, registered_seq);
CREATE INDEX memberships_by_satker ON memberships (satker_code, name, nik, registered_seq);
CREATE INDEX memberships_by_status ON memberships (status, name, nik, registered_seq);
