-- Dataset versions as the fleet's source (`hret dataset import`, datasets.source). Kind 'files'
-- keeps the data files of a download directory (or the rows API's pages as
-- <config>/<split>.jsonl) as they are: datasets.files lists them in order with their columns and
-- row counts, and each dataset_items row is one data row, item_id its file's path and data the
-- JSON array of its cells (text or null). A worker rebuilds the tables from them and hret's
-- loaders read those exactly as they read the files, so prompts, templates, few-shot and
-- params apply as they do on disk.
ALTER TABLE datasets DROP CONSTRAINT IF EXISTS datasets_kind_check;
ALTER TABLE datasets ADD CONSTRAINT datasets_kind_check
    CHECK (kind IN ('samples', 'rows', 'files'));
ALTER TABLE datasets ADD COLUMN files jsonb;
CREATE INDEX datasets_name_kind_idx ON datasets (name, kind, created_at DESC);

-- The imported version a run read its dataset from (NULL: files on disk).
ALTER TABLE runs ADD COLUMN data_version text;
