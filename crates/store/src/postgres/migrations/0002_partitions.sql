-- Schema version 2: partition leases for cluster mode (crates/cluster). Each phone belongs to
-- one of N partitions; one node at a time owns a partition, under a lease with an epoch that
-- grows with every change of owner. Owner transactions re-read their lease row FOR SHARE with
-- their epoch (the fence): a takeover (UPDATE, so it waits for them) makes any later write by
-- the old owner fail.
CREATE TABLE partition_leases (
    part       INTEGER PRIMARY KEY,
    owner      TEXT,
    epoch      BIGINT  NOT NULL DEFAULT 0,
    expires_at TIMESTAMPTZ NOT NULL DEFAULT 'epoch'
);

-- Nodes of the cluster, for `consentry cluster status` and unique node names.
CREATE TABLE cluster_nodes (
    node       TEXT PRIMARY KEY,
    instance   TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    seen_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
