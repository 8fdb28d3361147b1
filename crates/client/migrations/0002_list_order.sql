-- Indexes in the exact order of the Daftar Pengguna query (ORDER BY name, nik,
-- created_at, id), one per filter shape, so a page walks an index instead of sorting all
-- matching rows: with no filter (and for search), by satker, by status, by both.
DROP INDEX memberships_list;
DROP INDEX memberships_by_status;
CREATE INDEX memberships_list ON memberships (listed, satker_code, status, name, nik, created_at, id);
CREATE INDEX memberships_by_satker ON memberships (listed, satker_code, name, nik, created_at, id);
CREATE INDEX memberships_by_status ON memberships (listed, status, name, nik, created_at, id);
CREATE INDEX memberships_by_name ON memberships (listed, name, nik, created_at, id);
