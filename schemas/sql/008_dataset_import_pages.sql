-- Pages of a rows API import (`hret dataset import NAME --from URL|hub:...`) kept until the
-- import completes, so an attempt that stops part-way (a broken page, a lost connection, ^C)
-- is resumed by the next one, which fetches only the pages it lacks. source is the rows API
-- URL as imported; the rows are deleted once the version is stored.
CREATE TABLE dataset_import_pages (
    source      text NOT NULL,
    config      text NOT NULL,
    split       text NOT NULL,
    page_offset bigint NOT NULL,
    body        text NOT NULL,               -- the page's JSON document
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, config, split, page_offset)
);
