-- The search index holds only listed rows (the only ones Daftar Pengguna shows), so a
-- search counts its matches in the index alone, without visiting the table.
DROP TRIGGER memberships_search_insert;
DROP TRIGGER memberships_search_delete;
DROP TRIGGER memberships_search_update;
INSERT INTO memberships_search (memberships_search) VALUES ('delete-all');
INSERT INTO memberships_search (rowid, name, nik) SELECT rowid, name, nik FROM memberships WHERE listed = 1;
CREATE TRIGGER memberships_search_insert AFTER INSERT ON memberships WHEN new.listed = 1 BEGIN
    INSERT INTO memberships_search (rowid, name, nik) VALUES (new.rowid, new.name, new.nik);
END;
CREATE TRIGGER memberships_search_delete AFTER DELETE ON memberships WHEN old.listed = 1 BEGIN
    INSERT INTO memberships_search (memberships_search, rowid, name, nik) VALUES ('delete', old.rowid, old.name, old.nik);
END;
CREATE TRIGGER memberships_search_update AFTER UPDATE OF name, nik, listed ON memberships BEGIN
    INSERT INTO memberships_search (memberships_search, rowid, name, nik) SELECT 'delete', old.rowid, old.name, old.nik WHERE old.listed = 1;
    INSERT INTO memberships_search (rowid, name, nik) SELECT new.rowid, new.name, new.nik WHERE new.listed = 1;
END;
