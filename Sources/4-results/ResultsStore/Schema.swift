import GRDB

/// The schema's history: the frozen migrations. `Tables` declares the tables they build; docs/results-schema.md
/// describes them.
enum Schema {
    /// The migrations' identifiers, named for the declarations in `Tables` (`since:`).
    static let v1 = "v1-initial"
    static let v2 = "v2-request-cache-and-preemptions"
    static let v3 = "v3-token-latencies-and-rates"
    static let v4 = "v4-sessions-scaling-and-mesh"
    static let v5 = "v5-run-writer-and-heartbeat"
    static let v6 = "v6-run-files"
    static let v7 = "v7-disaggregation"
    static let v8 = "v8-lora"
    static let v9 = "v9-kv-offload"

    /// Every migration, in the order it is applied: its identifier and its SQL.
    ///
    /// FROZEN: a migration that has shipped is never edited, renamed or removed, because databases
    /// already written with it would silently disagree with the code. Change the schema by
    /// declaring the change in `Tables` (`since:` the new migration) and appending the new migration's raw SQL
    /// here; a test checks that each migration runs exactly the statements the declarations give for it.
    static let migrations: [(id: String, sql: String)] = [
        (v1, v1Initial), (v2, v2RequestCacheAndPreemptions), (v3, v3TokenLatenciesAndRates),
        (v4, v4SessionsScalingAndMesh), (v5, v5RunWriterAndHeartbeat), (v6, v6RunFiles),
        (v7, v7Disaggregation), (v8, v8LoRA), (v9, v9KVOffload),
    ]

    /// Migration identifiers in the order they are applied.
    static let migrationIDs = migrations.map(\.id)

    /// The migrator every `ResultsStore` runs when it opens a database.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        // Raw SQL rather than GRDB's schema builder or text generated from `Tables`: the text below is exactly
        // what lands in sqlite_master, so a shipped migration cannot change when the builder or a declaration does.
        for (id, sql) in migrations {
            migrator.registerMigration(id) { db in try db.execute(sql: sql) }
        }
        return migrator
    }

    // `request`, `sample` and `replica` are WITHOUT ROWID: their primary key is the clustering key,
    // so a bulk insert in key order appends to one B-tree instead of maintaining two.
    // `summary` keeps its rowid because readers rely on it for insertion order, and its `value` is
    // nullable because SQLite stores a NaN double as NULL (an undefined metric, e.g. a percentile of
    // nothing, must not abort the run's write).
    private static let v1Initial = """
        CREATE TABLE run (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            scenario_name   TEXT    NOT NULL,
            scenario_sha256 TEXT    NOT NULL,
            scenario_text   TEXT    NOT NULL,
            policy          TEXT    NOT NULL,
            seed            INTEGER NOT NULL,
            replication     INTEGER NOT NULL,
            tool_version    TEXT    NOT NULL,
            status          TEXT    NOT NULL CHECK (status IN ('running', 'complete', 'failed')),
            digest          TEXT    CHECK (digest IS NULL
                                           OR (length(digest) = 16 AND digest NOT GLOB '*[^0-9a-f]*')),
            events          INTEGER,
            wall_seconds    REAL,
            created_at      TEXT    NOT NULL,
            horizon_ns      INTEGER NOT NULL,
            warmup_ns       INTEGER NOT NULL,
            error           TEXT,
            CHECK (status <> 'complete'
                   OR (digest IS NOT NULL AND events IS NOT NULL AND wall_seconds IS NOT NULL))
        );
        CREATE INDEX run_scenario_policy ON run (scenario_name, policy);

        CREATE TABLE replica (
            run_id  INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE,
            replica INTEGER NOT NULL,
            pool    TEXT    NOT NULL,
            kind    TEXT    NOT NULL,
            PRIMARY KEY (run_id, replica)
        ) WITHOUT ROWID;

        CREATE TABLE request (
            run_id         INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE,
            request_id     INTEGER NOT NULL,
            workload       TEXT    NOT NULL,
            replica        INTEGER,
            arrival_ns     INTEGER NOT NULL,
            start_ns       INTEGER,
            first_token_ns INTEGER,
            end_ns         INTEGER,
            input_tokens   INTEGER NOT NULL,
            output_tokens  INTEGER NOT NULL,
            status         TEXT    NOT NULL
                           CHECK (status IN ('completed', 'rejected', 'timed_out', 'failed', 'unfinished')),
            PRIMARY KEY (run_id, request_id)
        ) WITHOUT ROWID;

        CREATE TABLE summary (
            run_id INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE,
            metric TEXT    NOT NULL,
            value  REAL,
            PRIMARY KEY (run_id, metric)
        );

        CREATE TABLE sample (
            run_id               INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE,
            time_ns              INTEGER NOT NULL,
            replica              INTEGER NOT NULL,
            num_requests_waiting INTEGER NOT NULL,
            num_requests_running INTEGER NOT NULL,
            kv_cache_usage_perc  REAL,
            busy_fraction        REAL    NOT NULL,
            PRIMARY KEY (run_id, time_ns, replica)
        ) WITHOUT ROWID;
        """

    // GPU replicas report prompt tokens found in the prefix cache and preemptions per request.
    private static let v2RequestCacheAndPreemptions = """
        ALTER TABLE request ADD COLUMN cached_tokens INTEGER NOT NULL DEFAULT 0 CHECK (cached_tokens >= 0);
        ALTER TABLE request ADD COLUMN preemptions INTEGER NOT NULL DEFAULT 0 CHECK (preemptions >= 0);
        """

    // GPU replicas time every output token: the longest gap per request, token rates and the prefix-cache
    // hit rate per sample, the token-weighted ITL histogram, and per-replica totals over the window.
    private static let v3TokenLatenciesAndRates = """
        ALTER TABLE replica ADD COLUMN num_gpu_blocks INTEGER CHECK (num_gpu_blocks IS NULL OR num_gpu_blocks > 0);
        ALTER TABLE replica ADD COLUMN busy_fraction REAL;
        ALTER TABLE replica ADD COLUMN prompt_tokens INTEGER;
        ALTER TABLE replica ADD COLUMN generation_tokens INTEGER;
        ALTER TABLE replica ADD COLUMN prefix_cache_queries INTEGER;
        ALTER TABLE replica ADD COLUMN prefix_cache_hits INTEGER;
        ALTER TABLE replica ADD COLUMN preemptions INTEGER;
        ALTER TABLE request ADD COLUMN itl_max_ns INTEGER CHECK (itl_max_ns IS NULL OR itl_max_ns >= 0);
        ALTER TABLE request ADD COLUMN routed_ns INTEGER;
        ALTER TABLE sample ADD COLUMN tokens_per_second REAL;
        ALTER TABLE sample ADD COLUMN generation_tokens_per_second REAL;
        ALTER TABLE sample ADD COLUMN prefix_cache_hit_rate REAL;
        CREATE TABLE itl_histogram (
            run_id  INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE,
            replica INTEGER NOT NULL,
            le_ns   INTEGER NOT NULL,
            tokens  INTEGER NOT NULL CHECK (tokens > 0),
            PRIMARY KEY (run_id, replica, le_ns)
        ) WITHOUT ROWID;
        """

    // Agent sessions (each request's session and turn, and one row per session), autoscalers' changes to
    // pool sizes, and the multicluster mesh (clusters, each request's path and attempts, mesh events).
    private static let v4SessionsScalingAndMesh = """
        ALTER TABLE request ADD COLUMN session_id INTEGER;
        ALTER TABLE request ADD COLUMN turn INTEGER CHECK (turn IS NULL OR turn >= 1);
        ALTER TABLE request ADD COLUMN subagent INTEGER CHECK (subagent IS NULL OR subagent IN (0, 1));
        CREATE TABLE session (
            run_id           INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE,
            session_id       INTEGER NOT NULL,
            workload         TEXT    NOT NULL,
            workload_session INTEGER NOT NULL,
            start_ns         INTEGER NOT NULL,
            end_ns           INTEGER,
            status           TEXT    NOT NULL CHECK (status IN ('completed', 'failed', 'unfinished')),
            planned_turns    INTEGER NOT NULL CHECK (planned_turns >= 1),
            turns            INTEGER NOT NULL CHECK (turns >= 0),
            timed_out_turns  INTEGER NOT NULL CHECK (timed_out_turns >= 0),
            failed_turns     INTEGER NOT NULL CHECK (failed_turns >= 0),
            retries          INTEGER NOT NULL CHECK (retries >= 0),
            reconnects       INTEGER NOT NULL CHECK (reconnects >= 0),
            subagent_calls   INTEGER NOT NULL CHECK (subagent_calls >= 0),
            compactions      INTEGER NOT NULL CHECK (compactions >= 0),
            PRIMARY KEY (run_id, session_id)
        ) WITHOUT ROWID;
        CREATE TABLE scaling_event (
            run_id           INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE,
            seq              INTEGER NOT NULL,
            time_ns          INTEGER NOT NULL,
            pool             TEXT    NOT NULL,
            replica          INTEGER NOT NULL,
            state            TEXT    NOT NULL CHECK (state IN ('off', 'provisioning', 'ready', 'draining')),
            desired_replicas INTEGER NOT NULL,
            metric_value     REAL,
            PRIMARY KEY (run_id, seq)
        ) WITHOUT ROWID;
        ALTER TABLE replica ADD COLUMN cluster TEXT;
        ALTER TABLE request ADD COLUMN origin_cluster TEXT;
        ALTER TABLE request ADD COLUMN network_ns INTEGER CHECK (network_ns IS NULL OR network_ns >= 0);
        ALTER TABLE request ADD COLUMN attempts INTEGER CHECK (attempts IS NULL OR attempts >= 1);
        ALTER TABLE request ADD COLUMN cross_cluster INTEGER CHECK (cross_cluster IS NULL OR cross_cluster IN (0, 1));
        CREATE TABLE mesh_event (
            run_id  INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE,
            seq     INTEGER NOT NULL,
            time_ns INTEGER NOT NULL,
            kind    TEXT    NOT NULL,
            subject TEXT    NOT NULL,
            detail  TEXT    NOT NULL,
            PRIMARY KEY (run_id, seq)
        ) WITHOUT ROWID;
        """

    // Who writes a `running` run (host and process id) and when it last showed signs of life, so readers can tell
    // a run under way from one whose process was killed (docs/results-schema.md, "Run statuses").
    private static let v5RunWriterAndHeartbeat = """
        ALTER TABLE run ADD COLUMN writer_host TEXT;
        ALTER TABLE run ADD COLUMN writer_pid INTEGER;
        ALTER TABLE run ADD COLUMN heartbeat_at TEXT;
        """

    // The files a run's scenario names (traces, data files, model configs, timing profiles) with the SHA-256 of
    // their bytes, which the scenario's identity covers, so `reproduce` can say which file changed.
    private static let v6RunFiles = """
        CREATE TABLE run_file (
            run_id        INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE,
            position      INTEGER NOT NULL,
            path          TEXT    NOT NULL,
            resolved_path TEXT    NOT NULL,
            sha256        TEXT    NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
            PRIMARY KEY (run_id, position)
        ) WITHOUT ROWID;
        """

    private static let v7Disaggregation = """
        ALTER TABLE request ADD COLUMN prefill_replica INTEGER;
        ALTER TABLE request ADD COLUMN kv_transfer_ns INTEGER CHECK (kv_transfer_ns IS NULL OR kv_transfer_ns >= 0);
        ALTER TABLE request ADD COLUMN kv_transfer_bytes INTEGER CHECK (kv_transfer_bytes IS NULL OR kv_transfer_bytes >= 0);
        """

    // The LoRA adapter a request named (NULL for the base model).
    private static let v8LoRA = """
        ALTER TABLE request ADD COLUMN lora_adapter TEXT;
        """

    // A CPU tier of KV blocks on GPU replicas: the prompt tokens each request loaded from it, and per replica
    // the tier's look-ups and hits (vLLM's external prefix-cache counters). (v7 is disaggregation's.)
    private static let v9KVOffload = """
        ALTER TABLE request ADD COLUMN loaded_tokens INTEGER CHECK (loaded_tokens IS NULL OR loaded_tokens >= 0);
        ALTER TABLE replica ADD COLUMN external_prefix_cache_queries INTEGER;
        ALTER TABLE replica ADD COLUMN external_prefix_cache_hits INTEGER;
        """
}
