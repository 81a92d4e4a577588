import GRDB

// The results tables, each declared once: columns in schema order with their nullability, defaults and CHECKs
// (a column's SQL type and nullability follow from the Swift property it stores: `Int?` is a nullable INTEGER),
// keys and row order. The statements of each migration, the bulk inserts, the reads, merge's column lists and
// `infermesh export`'s CSV columns follow from these declarations. Adding a column means its line here (with
// `since:` its new migration) plus that migration's raw SQL in `Schema`; TableDeclarationTests checks that the
// two agree and that the migrated database has exactly the declared columns.

/// The results tables, declared once.
enum Tables {
    /// `run`: one row per run. Its record is `RunRecord`, whose columns a test checks against this.
    static let run = TableDeclaration(
        name: "run", since: Schema.v1,
        columns: [
            ColumnDeclaration("id", .integer, nullable: false, isAutoincrementKey: true),
            ColumnDeclaration("scenario_name", .text, nullable: false),
            ColumnDeclaration("scenario_sha256", .text, nullable: false),
            ColumnDeclaration("scenario_text", .text, nullable: false),
            ColumnDeclaration("policy", .text, nullable: false),
            ColumnDeclaration("seed", .integer, nullable: false),
            ColumnDeclaration("replication", .integer, nullable: false),
            ColumnDeclaration("tool_version", .text, nullable: false),
            ColumnDeclaration("status", .text, nullable: false, check: "status IN \(sqlList(RunStatus.allCases))"),
            ColumnDeclaration(
                "digest", .text, nullable: true,
                check: "digest IS NULL OR (length(digest) = 16 AND digest NOT GLOB '*[^0-9a-f]*')"),
            ColumnDeclaration("events", .integer, nullable: true),
            ColumnDeclaration("wall_seconds", .real, nullable: true),
            ColumnDeclaration("created_at", .text, nullable: false),
            ColumnDeclaration("horizon_ns", .integer, nullable: false),
            ColumnDeclaration("warmup_ns", .integer, nullable: false),
            ColumnDeclaration("error", .text, nullable: true),
            ColumnDeclaration("writer_host", .text, nullable: true, since: Schema.v5),
            ColumnDeclaration("writer_pid", .integer, nullable: true, since: Schema.v5),
            ColumnDeclaration("heartbeat_at", .text, nullable: true, since: Schema.v5),
        ],
        primaryKey: [],
        checks: [
            "status <> 'complete' OR (digest IS NOT NULL AND events IS NOT NULL AND wall_seconds IS NOT NULL)"
        ],
        withoutRowID: false, indexes: [.init(name: "run_scenario_policy", columns: ["scenario_name", "policy"])],
        rowOrder: ["id"])

    /// `replica`: the fleet of a run.
    static let replica = RowTable<ReplicaRow>(
        "replica", since: Schema.v1, primaryKey: ["run_id", "replica"], withoutRowID: true, rowOrder: ["replica"],
        blank: ReplicaRow(replica: 0, pool: "", kind: ""),
        fields: [
            .runID,
            .column("replica", \.replica),
            .column("pool", \.pool),
            .column("kind", \.kind),
            .column(
                "num_gpu_blocks", \.numGPUBlocks, check: "num_gpu_blocks IS NULL OR num_gpu_blocks > 0",
                since: Schema.v3),
            .column("busy_fraction", \.busyFraction, since: Schema.v3),
            .column("prompt_tokens", \.promptTokens, since: Schema.v3),
            .column("generation_tokens", \.generationTokens, since: Schema.v3),
            .column("prefix_cache_queries", \.prefixCacheQueries, since: Schema.v3),
            .column("prefix_cache_hits", \.prefixCacheHits, since: Schema.v3),
            .column("preemptions", \.preemptions, since: Schema.v3),
            .column("cluster", \.cluster, since: Schema.v4),
            .column("external_prefix_cache_queries", \.externalPrefixCacheQueries, since: Schema.v9),
            .column("external_prefix_cache_hits", \.externalPrefixCacheHits, since: Schema.v9),
        ])

    /// `request`: one row per request generated in a run.
    static let request = RowTable<RequestRow>(
        "request", since: Schema.v1, primaryKey: ["run_id", "request_id"], withoutRowID: true,
        rowOrder: ["request_id"],
        blank: RequestRow(
            requestID: 0, workload: "", replica: nil, arrivalNs: 0, startNs: nil, firstTokenNs: nil, endNs: nil,
            inputTokens: 0, outputTokens: 0, status: ""),
        // The CHECK constraint would reject the row too, but without saying which request it was.
        problem: { row in
            guard RequestStatus(rawValue: row.status) == nil else { return nil }
            let allowed = RequestStatus.allCases.map(\.rawValue).joined(separator: ", ")
            return "request \(row.requestID) has status '\(row.status)', expected one of: \(allowed)"
        },
        fields: [
            .runID,
            .column("request_id", \.requestID),
            .column("workload", \.workload),
            .column("replica", \.replica),
            .column("arrival_ns", \.arrivalNs),
            .column("start_ns", \.startNs),
            .column("first_token_ns", \.firstTokenNs),
            .column("end_ns", \.endNs),
            .column("input_tokens", \.inputTokens),
            .column("output_tokens", \.outputTokens),
            .column("status", \.status, check: "status IN \(sqlList(RequestStatus.allCases))"),
            .column(
                "cached_tokens", \.cachedTokens, defaultSQL: "0", check: "cached_tokens >= 0",
                since: Schema.v2),
            .column("preemptions", \.preemptions, defaultSQL: "0", check: "preemptions >= 0", since: Schema.v2),
            .column("itl_max_ns", \.itlMaxNs, check: "itl_max_ns IS NULL OR itl_max_ns >= 0", since: Schema.v3),
            .column("routed_ns", \.routedNs, since: Schema.v3),
            .column("session_id", \.sessionID, since: Schema.v4),
            .column("turn", \.turn, check: "turn IS NULL OR turn >= 1", since: Schema.v4),
            .column("subagent", \.subagent, check: "subagent IS NULL OR subagent IN (0, 1)", since: Schema.v4),
            .column("origin_cluster", \.originCluster, since: Schema.v4),
            .column("network_ns", \.networkNs, check: "network_ns IS NULL OR network_ns >= 0", since: Schema.v4),
            .column("attempts", \.attempts, check: "attempts IS NULL OR attempts >= 1", since: Schema.v4),
            .column(
                "cross_cluster", \.crossCluster, check: "cross_cluster IS NULL OR cross_cluster IN (0, 1)",
                since: Schema.v4),
            .column("prefill_replica", \.prefillReplica, since: Schema.v7),
            .column(
                "kv_transfer_ns", \.kvTransferNs, check: "kv_transfer_ns IS NULL OR kv_transfer_ns >= 0",
                since: Schema.v7),
            .column(
                "kv_transfer_bytes", \.kvTransferBytes, check: "kv_transfer_bytes IS NULL OR kv_transfer_bytes >= 0",
                since: Schema.v7),
            .column("lora_adapter", \.loraAdapter, since: Schema.v8),
            .column(
                "loaded_tokens", \.loadedTokens, check: "loaded_tokens IS NULL OR loaded_tokens >= 0",
                since: Schema.v9),
        ])

    /// `summary`: named summary metrics, read back in insertion (rowid) order.
    static let summary = RowTable<SummaryRow>(
        "summary", since: Schema.v1, primaryKey: ["run_id", "metric"], withoutRowID: false, rowOrder: ["rowid"],
        blank: SummaryRow(metric: "", value: .nan),
        fields: [
            .runID,
            .column("metric", \.metric),
            // NULL stands for NaN: SQLite cannot store a NaN double and turns it into NULL on bind.
            .column(
                "value", .real, nullable: true, bind: { $0.value.isNaN ? .null : $0.value.databaseValue },
                read: { row, stored in row.value = Double.fromDatabaseValue(stored) ?? .nan }),
        ])

    /// `sample`: periodic observations of each replica.
    static let sample = RowTable<SampleRow>(
        "sample", since: Schema.v1, primaryKey: ["run_id", "time_ns", "replica"], withoutRowID: true,
        rowOrder: ["time_ns", "replica"],
        blank: SampleRow(
            timeNs: 0, replica: 0, numRequestsWaiting: 0, numRequestsRunning: 0, kvCacheUsagePerc: nil,
            busyFraction: 0),
        fields: [
            .runID,
            .column("time_ns", \.timeNs),
            .column("replica", \.replica),
            .column("num_requests_waiting", \.numRequestsWaiting),
            .column("num_requests_running", \.numRequestsRunning),
            .column("kv_cache_usage_perc", \.kvCacheUsagePerc),
            .column("busy_fraction", \.busyFraction),
            .column("tokens_per_second", \.tokensPerSecond, since: Schema.v3),
            .column("generation_tokens_per_second", \.generationTokensPerSecond, since: Schema.v3),
            .column("prefix_cache_hit_rate", \.prefixCacheHitRate, since: Schema.v3),
        ])

    /// `itl_histogram`: token-weighted inter-token latency per replica.
    static let itlHistogram = RowTable<ITLHistogramRow>(
        "itl_histogram", since: Schema.v3, primaryKey: ["run_id", "replica", "le_ns"], withoutRowID: true,
        rowOrder: ["replica", "le_ns"], blank: ITLHistogramRow(replica: 0, leNs: 0, tokens: 0),
        fields: [
            .runID,
            .column("replica", \.replica),
            .column("le_ns", \.leNs),
            .column("tokens", \.tokens, check: "tokens > 0"),
        ])

    /// The values `session.status` accepts.
    static let sessionStatuses = ["completed", "failed", "unfinished"]

    /// `session`: one row per agent session.
    static let session = RowTable<SessionRow>(
        "session", since: Schema.v4, primaryKey: ["run_id", "session_id"], withoutRowID: true,
        rowOrder: ["session_id"],
        blank: SessionRow(
            sessionID: 0, workload: "", workloadSession: 0, startNs: 0, endNs: nil, status: "", plannedTurns: 0,
            turns: 0, timedOutTurns: 0, failedTurns: 0, retries: 0, reconnects: 0, subagentCalls: 0, compactions: 0),
        problem: { row in
            sessionStatuses.contains(row.status)
                ? nil : "session \(row.sessionID) has status '\(row.status)', expected completed, failed or unfinished"
        },
        fields: [
            .runID,
            .column("session_id", \.sessionID),
            .column("workload", \.workload),
            .column("workload_session", \.workloadSession),
            .column("start_ns", \.startNs),
            .column("end_ns", \.endNs),
            .column("status", \.status, check: "status IN \(sqlList(sessionStatuses))"),
            .column("planned_turns", \.plannedTurns, check: "planned_turns >= 1"),
            .column("turns", \.turns, check: "turns >= 0"),
            .column("timed_out_turns", \.timedOutTurns, check: "timed_out_turns >= 0"),
            .column("failed_turns", \.failedTurns, check: "failed_turns >= 0"),
            .column("retries", \.retries, check: "retries >= 0"),
            .column("reconnects", \.reconnects, check: "reconnects >= 0"),
            .column("subagent_calls", \.subagentCalls, check: "subagent_calls >= 0"),
            .column("compactions", \.compactions, check: "compactions >= 0"),
        ])

    /// `scaling_event`: pool size changes by autoscalers; `seq` is the position in the run's list.
    static let scalingEvent = RowTable<ScalingEventRow>(
        "scaling_event", since: Schema.v4, primaryKey: ["run_id", "seq"], withoutRowID: true, rowOrder: ["seq"],
        blank: ScalingEventRow(timeNs: 0, pool: "", replica: 0, state: "", desiredReplicas: 0, metricValue: nil),
        fields: [
            .runID,
            .position("seq"),
            .column("time_ns", \.timeNs),
            .column("pool", \.pool),
            .column("replica", \.replica),
            .column("state", \.state, check: "state IN ('off', 'provisioning', 'ready', 'draining')"),
            .column("desired_replicas", \.desiredReplicas),
            .column("metric_value", \.metricValue),
        ])

    /// `mesh_event`: what happened in the multicluster mesh; `seq` is the position in the run's list.
    static let meshEvent = RowTable<MeshEventRow>(
        "mesh_event", since: Schema.v4, primaryKey: ["run_id", "seq"], withoutRowID: true, rowOrder: ["seq"],
        blank: MeshEventRow(timeNs: 0, kind: "", subject: "", detail: ""),
        fields: [
            .runID,
            .position("seq"),
            .column("time_ns", \.timeNs),
            .column("kind", \.kind),
            .column("subject", \.subject),
            .column("detail", \.detail),
        ])

    /// `run_file`: the files a run's scenario names, in the order the loader first read them.
    static let runFile = RowTable<RunFileRow>(
        "run_file", since: Schema.v6, primaryKey: ["run_id", "position"], withoutRowID: true,
        rowOrder: ["position"], blank: RunFileRow(path: "", resolvedPath: "", sha256: ""),
        fields: [
            .runID,
            .position("position"),
            .column("path", \.path),
            .column("resolved_path", \.resolvedPath),
            .column("sha256", \.sha256, check: "length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'"),
        ])

    /// Every table: `run`, then the tables that hang off it by `run_id`, in the order merge copies them.
    static let all: [TableDeclaration] = [
        run, replica.declaration, request.declaration, summary.declaration, sample.declaration,
        itlHistogram.declaration, session.declaration, scalingEvent.declaration, meshEvent.declaration,
        runFile.declaration,
    ]

    /// `('a', 'b', …)`: the SQL list of the raw values.
    private static func sqlList<S: Sequence>(_ values: S) -> String where S.Element: RawRepresentable<String> {
        sqlList(values.map(\.rawValue))
    }

    private static func sqlList(_ values: [String]) -> String {
        "(" + values.map { "'\($0)'" }.joined(separator: ", ") + ")"
    }
}

extension TableDeclaration {
    /// Every results table: `run`, then the tables that hang off it by `run_id`.
    public static var all: [TableDeclaration] { Tables.all }
    /// `run`.
    public static var run: TableDeclaration { Tables.run }
    /// `replica`.
    public static var replica: TableDeclaration { Tables.replica.declaration }
    /// `request`.
    public static var request: TableDeclaration { Tables.request.declaration }
    /// `summary`.
    public static var summary: TableDeclaration { Tables.summary.declaration }
    /// `sample`.
    public static var sample: TableDeclaration { Tables.sample.declaration }
    /// `itl_histogram`.
    public static var itlHistogram: TableDeclaration { Tables.itlHistogram.declaration }
    /// `session`.
    public static var session: TableDeclaration { Tables.session.declaration }
    /// `scaling_event`.
    public static var scalingEvent: TableDeclaration { Tables.scalingEvent.declaration }
    /// `mesh_event`.
    public static var meshEvent: TableDeclaration { Tables.meshEvent.declaration }
    /// `run_file`.
    public static var runFile: TableDeclaration { Tables.runFile.declaration }
}
