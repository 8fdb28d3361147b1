//! SQL of the store: The rows of stored letters and decrees (the bytes are in the object store). Instantiated for each backend inside `sql_backend!`.

macro_rules! documents_sql {
    ($db:ty) => {
        pub(super) async fn insert_document(c: &mut <$db as sqlx::Database>::Connection, d: &DocumentRow) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO documents (id, sha256, size, pages, kind, satker_code, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(d.id.to_string())
            .bind(&d.sha256)
            .bind(d.size)
            .bind(d.pages)
            .bind(d.kind.as_str())
            .bind(&d.satker_code)
            .bind(micros(d.created_at))
            .execute(&mut *c)
            .await?;
            Ok(())
        }

        pub(super) async fn document(c: &mut <$db as sqlx::Database>::Connection, id: Uuid) -> StoreResult<Option<DocumentRow>> {
            let row = sqlx::query("SELECT id, sha256, size, pages, kind, satker_code, created_at FROM documents WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *c)
                .await?;
            row.map(|r| {
                Ok(DocumentRow {
                    id: uuid(r.try_get("id")?)?,
                    sha256: r.try_get("sha256")?,
                    size: r.try_get("size")?,
                    pages: r.try_get("pages")?,
                    kind: decode::document_kind(r.try_get("kind")?)?,
                    satker_code: r.try_get("satker_code")?,
                    created_at: from_micros(r.try_get("created_at")?),
                })
            })
            .transpose()
        }

        pub(super) async fn document_referenced(c: &mut <$db as sqlx::Database>::Connection, sha256: &str) -> StoreResult<bool> {
            let row = sqlx::query("SELECT 1 AS one FROM documents WHERE sha256 = $1 LIMIT 1").bind(sha256).fetch_optional(&mut *c).await?;
            Ok(row.is_some())
        }

        pub(super) async fn referenced_documents(
            c: &mut <$db as sqlx::Database>::Connection,
        ) -> StoreResult<std::collections::HashSet<String>> {
            let rows: Vec<String> = sqlx::query_scalar("SELECT DISTINCT sha256 FROM documents").fetch_all(&mut *c).await?;
            Ok(rows.into_iter().collect())
        }
    };
}

pub(crate) use documents_sql;
