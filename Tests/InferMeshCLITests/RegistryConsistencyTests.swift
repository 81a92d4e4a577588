import Analysis
import Fleet
import Foundation
import TestSupport
import Testing

@testable import InferMeshCLI
@testable import Scenarios

/// Every name family has one registry: policies, endpoint-picker plugins, replica kinds, arrival processes,
/// scenario keys and summary metrics. The JSON Schema, `infermesh list`, the docs tables and the summary a run
/// stores are each checked against it here, so adding a name in one place and not the others fails a test.
@Suite struct RegistryConsistencyTests {
    // MARK: - Fixtures

    static let root = Repository.root

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    static func schema() throws -> [String: Any] {
        let data = try Data(contentsOf: root.appendingPathComponent("docs/scenario.schema.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func definition(_ name: String, in schema: [String: Any]) throws -> [String: Any] {
        let definitions = try #require(schema["$defs"] as? [String: Any])
        return try #require(definitions[name] as? [String: Any], "no $defs/\(name) in the schema")
    }

    static func propertyNames(_ object: [String: Any]) -> [String] {
        ((object["properties"] as? [String: Any]) ?? [:]).keys.sorted()
    }

    /// The first column of each row of `command`'s output, skipping `header` lines.
    static func listed(_ registry: String, header: Int = 0) -> [String] {
        let result = CLITests.invoke(["list", registry])
        #expect(result.status == 0, "list \(registry): \(result.err)")
        return result.out.split(separator: "\n").dropFirst(header).map { String($0.split(separator: " ")[0]) }
    }

    /// What differs between `actual` and the registry's `expected` names, or nil when they are equal.
    static func drift(_ actual: [String], _ expected: [String], ordered: Bool = true) -> Comment? {
        if ordered ? actual == expected : actual.sorted() == expected.sorted() { return nil }
        let missing = expected.filter { !actual.contains($0) }
        let extra = actual.filter { !expected.contains($0) }
        let duplicated = Set(actual.filter { name in actual.filter { $0 == name }.count > 1 }).sorted()
        var parts = ["missing \(missing)", "extra \(extra)"]
        if !duplicated.isEmpty { parts.append("duplicated \(duplicated)") }
        if missing.isEmpty && extra.isEmpty && duplicated.isEmpty {
            parts.append("order \(actual), registry order \(expected)")
        }
        return Comment(rawValue: parts.joined(separator: "; "))
    }

    /// Expects `actual` to equal the registry's `expected`, reporting the drift if it does not.
    static func expectSame(
        _ actual: [String], _ expected: [String], ordered: Bool = true, _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let difference = drift(actual, expected, ordered: ordered)
        #expect(
            difference == nil, "\(what): \(difference?.rawValue ?? "")", sourceLocation: sourceLocation)
    }

    /// The rows of the first Markdown table after the heading line `heading` (before the next heading), as cells.
    static func table(after heading: String, in document: String) throws -> [[String]] {
        let rows = try #require(MarkdownTable.rows(after: heading, in: document), "no heading `\(heading)`")
        #expect(!rows.isEmpty, "no table after `\(heading)`")
        return rows
    }

    static func codeSpans(_ cell: String) -> [String] { MarkdownTable.codeSpans(cell) }

    /// The names a table's first column lists, one code span or more per row.
    static func firstColumnNames(after heading: String, in document: String) throws -> [String] {
        try table(after: heading, in: document).flatMap { codeSpans($0[0]) }
    }

    /// The README's command summary names every registry `infermesh list` prints.
    @Test func theReadmeNamesEveryListing() throws {
        let line = try #require(
            try Self.text("README.md").components(separatedBy: "\n").first { $0.hasPrefix("infermesh list policies") })
        let also = line.components(separatedBy: "# also: ").last?.components(separatedBy: ", ") ?? []
        Self.expectSame(
            ["policies"] + also, ListCommand.Registry.allCases.map(\.rawValue), "README.md `infermesh list` line")
    }

    // MARK: - Routing policies

    @Test func policies() throws {
        let names = PolicyRegistry.names
        let properties = try #require(try Self.schema()["properties"] as? [String: Any])
        let items = (properties["policies"] as? [String: Any])?["items"] as? [String: Any]
        let schemaNames = (items?["anyOf"] as? [[String: Any]])?.first?["enum"] as? [String]
        Self.expectSame(schemaNames ?? [], names, "schema properties.policies enum")
        Self.expectSame(Self.listed("policies"), names, "infermesh list policies")
        Self.expectSame(
            try Self.firstColumnNames(after: "## Policies", in: Self.text("docs/routing.md")), names,
            "docs/routing.md policies table")
        // docs/multicluster.md details the policies that matter with clusters: each must be registered.
        let multicluster = try Self.firstColumnNames(
            after: "## Routing across clusters", in: Self.text("docs/multicluster.md"))
        #expect(!multicluster.isEmpty)
        Self.expectSame(multicluster.filter { !names.contains($0) }, [], "docs/multicluster.md unregistered policies")
    }

    // MARK: - Endpoint-picker plugins

    @Test func plugins() throws {
        let names = PluginRegistry.names
        let picker = try Self.definition("endpointPicker", in: Self.schema())
        let plugins = (picker["properties"] as? [String: Any])?["plugins"] as? [String: Any]
        let type = ((plugins?["items"] as? [String: Any])?["properties"] as? [String: Any])?["type"]
        Self.expectSame((type as? [String: Any])?["enum"] as? [String] ?? [], names, "schema plugin type enum")
        Self.expectSame(Self.listed("plugins", header: 1), names, "infermesh list plugins")
        let rows = try Self.table(after: "## Plugins", in: Self.text("docs/routing.md"))
        Self.expectSame(rows.flatMap { Self.codeSpans($0[0]) }, names, "docs/routing.md plugins table")
        let kinds = Dictionary(uniqueKeysWithValues: PluginRegistry.types.map { ($0.name, $0.kind.rawValue) })
        for row in rows {
            let name = Self.codeSpans(row[0]).first ?? row[0]
            #expect(
                row[1] == kinds[name], "docs/routing.md: \(name) is a \(row[1]), registered as \(kinds[name] ?? "-")")
        }
    }

    // MARK: - Replica kinds

    @Test func replicaKinds() throws {
        let names = ReplicaSpec.kindNames
        #expect(names == ReplicaKind.allCases.map(\.rawValue))
        let schema = try Self.schema()
        let pool = try Self.definition("pool", in: schema)
        let oneOf = (pool["oneOf"] as? [[String: Any]]) ?? []
        Self.expectSame(oneOf.compactMap { ($0["required"] as? [String])?.first }, names, "schema pool.oneOf")
        Self.expectSame(
            Self.propertyNames(pool).filter { !["name", "replicas", "role", "autoscaler", "placement"].contains($0) },
            names,
            ordered: false, "schema pool kind blocks")
        Self.expectSame(Self.listed("replica-kinds"), names, "infermesh list replica-kinds")
        let format = try Self.text("docs/scenario-format.md")
        let kindRow = try Self.table(after: "## Pools", in: format).first { $0[0] == "*kind block*" }
        Self.expectSame(Self.codeSpans(kindRow?[3] ?? ""), names, "docs/scenario-format.md pool kind block row")
        for kind in ReplicaKind.allCases {
            let keys = ScenarioKeys.replicaKind(kind)
            Self.expectSame(
                Self.propertyNames(try Self.definition(kind.rawValue, in: schema)), keys, ordered: false,
                "schema $defs/\(kind.rawValue)")
            Self.expectSame(
                try Self.firstColumnNames(after: "### `\(kind.rawValue)`", in: format), keys, ordered: false,
                "docs/scenario-format.md `\(kind.rawValue)` table")
        }
    }

    // MARK: - Precision, model architectures, and the GPU and model catalogs

    /// The `enum` of a property of the schema's `gpu` definition.
    static func gpuEnum(_ key: String) throws -> [String] {
        let gpu = try Self.definition("gpu", in: Self.schema())
        let property = (gpu["properties"] as? [String: Any])?[key] as? [String: Any]
        return (property?["enum"] as? [String]) ?? []
    }

    /// The disaggregation choices: `PoolRole` and `DisaggregationSpec.WhenDecodeFull` are the schema's enums and
    /// the format doc's words.
    @Test func disaggregationChoices() throws {
        let schema = try Self.schema()
        func choices(_ definition: String, _ key: String) throws -> [String] {
            let properties = try Self.definition(definition, in: schema)["properties"] as? [String: Any]
            return ((properties?[key] as? [String: Any])?["enum"] as? [String]) ?? []
        }
        Self.expectSame(try choices("pool", "role"), PoolRole.allCases.map(\.rawValue), "schema pool.role enum")
        Self.expectSame(
            try choices("disaggregation", "when-decode-full"),
            DisaggregationSpec.WhenDecodeFull.allCases.map(\.rawValue), "schema disaggregation.when-decode-full enum")
        let format = try Self.text("docs/scenario-format.md")
        for name in PoolRole.allCases.map(\.rawValue) + DisaggregationSpec.WhenDecodeFull.allCases.map(\.rawValue) {
            #expect(format.contains("`\(name)`"), "docs/scenario-format.md does not name `\(name)`")
        }
    }

    /// A sweep file's keys (docs/sweeps.md writes each in its examples as `key:`).
    @Test func sweepKeysAreDocumented() throws {
        let sweeps = try Self.text("docs/sweeps.md")
        for key in ScenarioKeys.sweep + ScenarioKeys.sweepCase + ScenarioKeys.sweepPlan + ScenarioKeys.sweepBound {
            #expect(sweeps.contains("\(key):"), "docs/sweeps.md has no example of `\(key)`")
        }
    }

    /// vLLM's quantization methods and KV cache dtypes: one enum each, repeated by the schema and tabled by
    /// docs/gpu-replica.md; `infermesh timing` takes the same names.
    @Test func precisionNames() throws {
        let replica = try Self.text("docs/gpu-replica.md")
        Self.expectSame(try Self.gpuEnum("quantization"), Quantization.names, "schema gpu.quantization enum")
        Self.expectSame(
            try Self.firstColumnNames(after: "### `quantization`", in: replica), Quantization.names,
            "docs/gpu-replica.md quantization table")
        Self.expectSame(try Self.gpuEnum("kv-cache-dtype"), KVCacheDType.names, "schema gpu.kv-cache-dtype enum")
        Self.expectSame(
            try Self.firstColumnNames(after: "### `kv-cache-dtype`", in: replica), KVCacheDType.names,
            "docs/gpu-replica.md kv-cache-dtype table")
        let help = CLITests.invoke(["timing", "--help"]).out
        for name in Quantization.names + KVCacheDType.names {
            #expect(help.contains(name), "infermesh timing --help does not name \(name)")
        }
    }

    /// The `config.json` architectures the reader accepts are the ones docs/gpu-replica.md lists.
    @Test func modelArchitectures() throws {
        Self.expectSame(
            try Self.firstColumnNames(after: "### Architectures", in: Self.text("docs/gpu-replica.md")),
            ModelArchitecture.allCases.map(\.rawValue), "docs/gpu-replica.md architectures table")
    }

    /// `model: {config: PATH}` takes exactly its keys in the schema and in docs/scenario-format.md.
    @Test func modelConfigKeys() throws {
        let gpu = try Self.definition("gpu", in: Self.schema())
        let model = (gpu["properties"] as? [String: Any])?["model"] as? [String: Any]
        let object = ((model?["oneOf"] as? [[String: Any]]) ?? []).first { $0["type"] as? String == "object" }
        Self.expectSame(Self.propertyNames(object ?? [:]), ScenarioKeys.modelConfig, ordered: false, "schema gpu.model")
        Self.expectSame(
            try Self.firstColumnNames(after: "#### `model: {config: …}`", in: Self.text("docs/scenario-format.md")),
            ScenarioKeys.modelConfig, ordered: false, "docs/scenario-format.md model config table")
    }

    /// `timing: {profile: PATH}` takes exactly its keys in the schema and in docs/scenario-format.md.
    @Test func timingProfileKeys() throws {
        let gpu = try Self.definition("gpu", in: Self.schema())
        let timing = (gpu["properties"] as? [String: Any])?["timing"] as? [String: Any]
        let object = ((timing?["oneOf"] as? [[String: Any]]) ?? []).first { $0["type"] as? String == "object" }
        Self.expectSame(Self.propertyNames(object ?? [:]), ScenarioKeys.timing, ordered: false, "schema gpu.timing")
        Self.expectSame(
            try Self.firstColumnNames(after: "#### `timing: {profile: …}`", in: Self.text("docs/scenario-format.md")),
            ScenarioKeys.timing, ordered: false, "docs/scenario-format.md timing profile table")
    }

    /// A timing profile's parameters: docs/calibration.md's table lists exactly `TimingProfile.Parameter`.
    @Test func timingProfileParameters() throws {
        Self.expectSame(
            try Self.firstColumnNames(after: "The fitted parameters:", in: Self.text("docs/calibration.md")),
            TimingProfile.Parameter.allCases.map(\.rawValue), "docs/calibration.md fitted parameters table")
    }

    /// A `trace` block's keys: docs/traces.md's table lists exactly the loader's.
    @Test func traceKeys() throws {
        Self.expectSame(
            try Self.firstColumnNames(after: "# Trace replay", in: Self.text("docs/traces.md")), ScenarioKeys.trace,
            ordered: false, "docs/traces.md trace keys table")
    }

    /// The built-in GPUs and models: `infermesh list`, docs/calibration.md's catalog tables, and the schema's
    /// descriptions name each of them.
    @Test func gpuAndModelCatalogs() throws {
        let calibration = try Self.text("docs/calibration.md")
        let gpus = GPUSpec.builtIns.map(\.name)
        Self.expectSame(Self.listed("hardware", header: 1), gpus, "infermesh list hardware")
        Self.expectSame(
            try Self.firstColumnNames(after: "### Hardware", in: calibration), gpus, "docs/calibration.md hardware")
        let models = LLMSpec.builtIns.map(\.name)
        Self.expectSame(Self.listed("models", header: 1), models, "infermesh list models")
        // A row names the model first, then its aliases.
        Self.expectSame(
            try Self.table(after: "### Models", in: calibration).compactMap { Self.codeSpans($0[0]).first }, models,
            "docs/calibration.md models")
        let gpu = (try Self.definition("gpu", in: Self.schema())["properties"] as? [String: Any]) ?? [:]
        let hardwareText = (gpu["hardware"] as? [String: Any])?["description"] as? String ?? ""
        let modelText = (((gpu["model"] as? [String: Any])?["oneOf"] as? [[String: Any]])?.first)?["description"]
        for name in gpus { #expect(hardwareText.contains(name), "schema gpu.hardware does not name \(name)") }
        for name in models {
            #expect((modelText as? String ?? "").contains(name), "schema gpu.model does not name \(name)")
        }
    }

    // MARK: - Arrival processes

    @Test func arrivalProcesses() throws {
        let names = ArrivalProcess.names
        #expect(names == ArrivalProcess.Kind.allCases.map(\.rawValue))
        let arrival = try Self.definition("arrival", in: Self.schema())
        var schemaNames: [String] = []
        var bare: [String] = []
        for branch in (arrival["oneOf"] as? [[String: Any]]) ?? [] {
            if let written = branch["enum"] as? [String] {
                bare += written
                continue
            }
            let properties = (branch["properties"] as? [String: Any]) ?? [:]
            let process = properties["process"] as? [String: Any]
            let branchNames = (process?["enum"] as? [String]) ?? [(process?["const"] as? String) ?? "?"]
            schemaNames += branchNames
            for name in branchNames {
                let kind = try #require(ArrivalProcess.Kind(rawValue: name), "schema arrival `\(name)`")
                Self.expectSame(
                    properties.keys.sorted(), ScenarioKeys.arrival(kind), ordered: false,
                    "schema arrival `\(name)` keys")
            }
        }
        Self.expectSame(schemaNames, names, ordered: false, "schema arrival processes")
        // A bare name is allowed exactly for the processes that take no key besides `process`.
        let keyless = ArrivalProcess.Kind.allCases.filter { ScenarioKeys.arrival($0) == ["process"] }
        Self.expectSame(bare, keyless.map(\.rawValue), ordered: false, "schema arrival bare names")
        Self.expectSame(Self.listed("arrival-processes"), names, "infermesh list arrival-processes")
        let rows = try Self.table(after: "### Arrival processes", in: Self.text("docs/scenario-format.md"))
        let documented = rows.map { row in
            Self.codeSpans(row[0]).compactMap { span in
                span.range(of: #"process: [a-z-]+"#, options: .regularExpression).map {
                    String(span[$0].dropFirst("process: ".count))
                }
            }.first ?? "?"
        }
        Self.expectSame(documented, names, "docs/scenario-format.md arrival processes table")
        // docs/traffic.md states the renewal processes' laws in a table, the modulated ones in sections.
        let renewal = try Self.firstColumnNames(after: "### Renewal processes", in: Self.text("docs/traffic.md"))
            .map { span in
                span.range(of: #"process: [a-z-]+"#, options: .regularExpression).map { span[$0] }
                    .map { String($0.dropFirst("process: ".count)) } ?? span
            }
        #expect(renewal.count == 4)
        Self.expectSame(renewal.filter { !names.contains($0) }, [], "docs/traffic.md unregistered processes")
    }

    // MARK: - Scenario keys

    /// Each section with a `$defs` entry of its own lists exactly its keys there.
    @Test func scenarioKeysMatchTheSchemaDefinitions() throws {
        let schema = try Self.schema()
        Self.expectSame(Self.propertyNames(schema), ScenarioKeys.scenario, ordered: false, "schema top level")
        let definitions = [
            "slo": "slo", "pool": "pool", "workload": "workload", "router": "router",
            "endpoint-picker": "endpointPicker",
            "session": "session", "autoscaler": "autoscaler", "trace": "trace", "cluster": "cluster", "mesh": "mesh",
            "fault": "fault", "disaggregation": "disaggregation",
        ]
        for (section, definition) in definitions.sorted(by: { $0.key < $1.key }) {
            let keys = try #require(ScenarioLoader.knownKeys[section], "no section \(section)")
            Self.expectSame(
                Self.propertyNames(try Self.definition(definition, in: schema)), keys, ordered: false,
                "schema $defs/\(definition)")
        }
        // A schedule takes exactly one form: one `oneOf` branch per form.
        let forms = (try Self.definition("schedule", in: schema)["oneOf"] as? [[String: Any]]) ?? []
        Self.expectSame(
            forms.flatMap { ($0["required"] as? [String]) ?? [] }, ScenarioKeys.schedule, ordered: false,
            "schema $defs/schedule forms")
    }

    /// Each section that docs/scenario-format.md describes in a table lists exactly its keys there.
    @Test func scenarioKeysMatchTheFormatTables() throws {
        let format = try Self.text("docs/scenario-format.md")
        let tables: [(heading: String, keys: [String])] = [
            ("## Top level", ScenarioKeys.scenario), ("### SLO", ScenarioKeys.slo),
            ("## Pools", ScenarioKeys.pool.filter { !ReplicaSpec.kindNames.contains($0) }),
            ("## Workloads", ScenarioKeys.workload), ("### Agent sessions", ScenarioKeys.session),
            ("### Rate schedules", ScenarioKeys.schedule), ("## Autoscaler", ScenarioKeys.autoscaler),
            ("## Router", ScenarioKeys.router), ("### `clusters`", ScenarioKeys.cluster),
            ("### `mesh`", ScenarioKeys.mesh), ("#### `links`", ScenarioKeys.link),
            ("#### `data-path`", ScenarioKeys.dataPath), ("#### `east-west-gateway`", ScenarioKeys.eastWestGateway),
            ("#### `connectionPool`", ScenarioKeys.connectionPool),
            ("#### `outlierDetection`", ScenarioKeys.outlierDetection), ("#### `retries`", ScenarioKeys.retries),
            ("#### `faults`", ScenarioKeys.faultKinds), ("## Disaggregation", ScenarioKeys.disaggregation),
            ("#### `kv-transfer`", ScenarioKeys.kvTransfer),
        ]
        for (heading, keys) in tables {
            Self.expectSame(
                try Self.firstColumnNames(after: heading, in: format), keys, ordered: false,
                "docs/scenario-format.md `\(heading)` table")
        }
    }

    // MARK: - Summary metrics

    /// Expands `e2e_ms_{mean,p50,p90,p99,p999,max}` and `e2e_ms_{…}` to the family's names.
    static func expandMetric(_ written: String) -> [String] {
        guard let open = written.firstIndex(of: "{"), written.hasSuffix("}") else { return [written] }
        let stem = written[..<open]
        let inside = written[written.index(after: open)..<written.index(before: written.endIndex)]
        let suffixes = inside == "…" ? SummaryMetric.latencySuffixes : inside.split(separator: ",").map(String.init)
        return suffixes.map { stem + $0 }
    }

    @Test func summaryMetricsMatchTheDocsAndTheList() throws {
        let metrics = try Self.text("docs/metrics.md")
        let rows = metrics.components(separatedBy: "\n\n").filter { $0.hasPrefix("| metric | unit | meaning |") }
            .flatMap { block in block.components(separatedBy: "\n").dropFirst(2).filter { $0.hasPrefix("|") } }
            .map { MarkdownTable.cells($0) }
        var documented: [String] = []
        let units = Dictionary(uniqueKeysWithValues: SummaryMetrics.expanded.map { ($0.name, $0.metric.unit) })
        for row in rows {
            for name in Self.codeSpans(row[0]).flatMap(Self.expandMetric) {
                documented.append(name)
                #expect(units[name] == nil || units[name] == row[1], "docs/metrics.md: \(name) in \(row[1])")
            }
        }
        Self.expectSame(documented, SummaryMetrics.names, "docs/metrics.md tables")
        Self.expectSame(Self.listed("metrics", header: 1), SummaryMetrics.names, "infermesh list metrics")
    }

    /// The metrics the CLI's tables pick by name are registered.
    @Test func theCommandsNameOnlyRegisteredMetrics() {
        let names = Set(SummaryMetrics.names)
        let used =
            ComparisonReport.rows.map(\.metric) + ComparisonReport.detailedLatencyRows.map(\.metric)
            + SweepCommand.metrics.map(\.metric)
        Self.expectSame(used.filter { !names.contains($0) }, [], "metrics the CLI names but the registry lacks")
    }

    /// Runs between which every scope is on: an autoscaler, a spike, sessions and several workloads; clusters; a CPU
    /// KV tier.
    static let metricScenarios = [
        """
        horizon: 2m
        warmup: 10s
        pools:
          - name: pool
            replicas: 2
            autoscaler: {metric: concurrency, target: 2, max-replicas: 4, provisioning-delay: 5s}
            station: {servers: 1, service: {dist: exponential, mean: 200ms}}
        workloads:
          - name: chat
            rate: 4/s
            schedule: {spike: {start: 30s, peak: 2, hold: 20s}}
          - name: agents
            rate: 0.2/s
            session: {turns: 3}
        """,
        """
        horizon: 1m
        clusters:
          - {name: east, region: r1, zone: z1}
          - {name: west, region: r2, zone: z2}
        mesh:
          links: [{from: east, to: west, latency: 10ms}]
        pools:
          - name: pool
            replicas: 2
            placement: [{cluster: east, replicas: 1}, {cluster: west, replicas: 1}]
            station: {servers: 1, service: {dist: exponential, mean: 200ms}}
        workloads:
          - {name: chat, rate: 4/s, cluster: east}
        """,
        """
        horizon: 20s
        disaggregation: {}
        pools:
          - {name: p, role: prefill, replicas: 1, gpu: {hardware: H100-80GB, model: Llama-3-8B, timing: roofline}}
          - {name: d, role: decode, replicas: 1, gpu: {hardware: H100-80GB, model: Llama-3-8B, timing: roofline}}
        workloads:
          - {name: chat, pool: d, rate: 2/s, input-tokens: 1000, output-tokens: 50}
        """,
        """
        horizon: 20s
        pools:
          - name: gpu
            replicas: 1
            gpu: {hardware: H100-80GB, model: Llama-3-8B, timing: roofline, max-loras: 1}
        workloads:
          - {name: tenants, rate: 2/s, input-tokens: 100, output-tokens: 10, lora: {adapters: 2}}
        """,
        // A CPU KV tier, with two workloads (its hit rates fleet-wide and per workload).
        """
        horizon: 20s
        warmup: 2s
        pools:
          - name: pool
            replicas: 1
            gpu: {hardware: H100-80GB, model: Llama-3.1-8B, timing: roofline, kv-offloading-size: 1}
        workloads:
          - {name: chat, rate: 2/s, input-tokens: 200, output-tokens: 20, shared-prefix-tokens: 160}
          - {name: batch, rate: 1/s, input-tokens: 300, output-tokens: 10}
        """,
    ]

    /// A run stores exactly the registry's metrics for its features, in registry order.
    @Test func aRunStoresTheRegisteredMetrics() throws {
        var stored: [String] = []
        for scenario in Self.metricScenarios {
            let spec = try ScenarioLoader.parse(scenario, file: "metrics.yaml").fleet
            let summary = RunSummary.of(try FleetRun.execute(spec, policy: "round-robin", seed: 1))
            Self.expectSame(summary.metrics.map(\.name), SummaryMetrics.names(for: spec), "the run's summary")
            stored += summary.metrics.map(\.name)
        }
        // Every scope was exercised, so none of the accumulators' names went unchecked.
        let covered = SummaryMetrics.registry.filter { metric in
            let name = metric.names[0]
            return stored.contains { $0 == name || $0.hasSuffix("." + name) }
        }
        Self.expectSame(
            Set(covered.map(\.scope.rawValue)).sorted(), SummaryMetric.Scope.allCases.map(\.rawValue).sorted(),
            "scopes the runs stored")
        #expect(stored.contains("workload.agents.turn_ttft_ms_p99") && stored.contains("workload.chat.e2e_ms_max"))
    }
}
