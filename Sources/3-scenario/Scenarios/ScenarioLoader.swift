import Fleet
import Foundation
import SimKernel

/// Reads scenario files (YAML) into validated ``Scenario`` values, or explains precisely what is wrong.
public enum ScenarioLoader {
    /// The keys each section accepts, by section: `scenario` (top level), `slo`, `pool`, `station`, `workload`,
    /// `arrival` and `distribution` (every key of every `dist:` form).
    public static let knownKeys: [String: [String]] = ScenarioKeys.all

    /// Reads and parses the file at `path`.
    public static func load(path: String) throws(ScenarioError) -> Scenario {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ScenarioError(
                kind: .fileNotFound, file: path, line: nil, column: nil, path: "",
                message: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw ScenarioError(
                kind: .unreadable, file: path, line: nil, column: nil, path: "",
                message: "expected a scenario file, found a directory")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScenarioError(
                kind: .unreadable, file: path, line: nil, column: nil, path: "",
                message: "the file could not be read (check its permissions)")
        }
        // Decoding repairs invalid bytes; comparing back detects them without losing a BOM or any other byte.
        let text = String(decoding: data, as: UTF8.self)
        guard text.utf8.elementsEqual(data) else {
            throw ScenarioError(
                kind: .unreadable, file: path, line: nil, column: nil, path: "",
                message: "expected UTF-8 text, found bytes that are not valid UTF-8")
        }
        return try parse(text, file: path, baseDirectory: directory(of: path))
    }

    /// Parses scenario text; `file` names it in errors and provides the default name. Relative paths in the
    /// text (trace files) start from `baseDirectory`, the current directory if empty.
    public static func parse(
        _ text: String, file: String, baseDirectory: String = ""
    ) throws(ScenarioError)
        -> Scenario
    {
        let document = try YamlDocument.parse(text, file: file)
        guard let root = document.root else {
            throw ScenarioError(
                kind: .invalid, file: file, line: 1, column: 1, path: "",
                message: "the file has no content; expected a mapping with at least `horizon`, `pools` and `workloads`")
        }
        let context = ReaderContext(file: file, renamedKeys: document.renamedKeys, baseDirectory: baseDirectory)
        let scenario = try read(NodeReader(node: root, path: "", context: context), text: text, file: file)
        // Only reached with renamed keys if the loader missed the repetition; never accept such a file.
        if let duplicate = document.duplicateError { throw duplicate }
        return scenario
    }

    private static func read(_ root: NodeReader, text: String, file: String) throws(ScenarioError) -> Scenario {
        let top = try root.mapping(keys: ScenarioKeys.scenario, what: "a mapping of scenario settings at the top level")

        let name = try top["name"]?.name() ?? defaultName(for: file)
        let description = try top["description"]?.string() ?? ""
        let seed = try top["seed"]?.unsigned64() ?? 1
        let replications = try top["replications"]?.integer(in: 1...1000) ?? 1

        // Optional only when every workload sends a fixed number of `requests` (checked below).
        let givenHorizon = try top["horizon"]?.duration(allowZero: false)
        let horizon = givenHorizon ?? FleetSpec.untilDoneHorizon
        let warmup = try top["warmup"]?.duration(allowZero: true) ?? .zero
        if let warmupReader = top["warmup"], givenHorizon != nil, warmup >= horizon {
            throw warmupReader.expected(
                "a warmup shorter than the horizon (\(top["horizon"]?.scalarText ?? "\(horizon)"))")
        }
        let drain = try top["drain"]?.bool() ?? true
        let drainTimeout = try top["drain-timeout"]?.duration(allowZero: false) ?? .seconds(3600)
        let sampleInterval =
            try top["sample-interval"].map { reader throws(ScenarioError) -> SimTime? in
                if reader.isNull || (reader.isBareScalar && reader.scalarText == "none") { return nil }
                return try reader.duration(allowZero: false)
            } ?? .seconds(1)
        let slo = try top["slo"]?.slo() ?? SLO()
        let router = try top["router"]?.router() ?? RouterSpec()
        let endpointPicker = try top["endpoint-picker"]?.endpointPicker()
        let known = PolicyRegistry.names + (endpointPicker?.schedulingProfiles.map(\.name) ?? [])
        let policies =
            try top["policies"].map { reader throws(ScenarioError) in try readPolicies(reader, known: known) }
            ?? known

        let clusters = try top["clusters"]?.clusters()
        if clusters == nil, let mesh = top.keyReader("mesh") {
            throw mesh.error("`mesh` needs a top-level `clusters` list of the clusters it joins")
        }
        let clusterNames = clusters?.map(\.name)

        let poolsReader = try top.required("pools", expecting: "a non-empty list of pools")
        var pools: [PoolSpec] = []
        var poolNames: [String: NodeReader] = [:]
        for item in try poolsReader.sequence(nonEmpty: true, of: "pools") {
            let pool = try item.pool(clusters: clusterNames)
            if let first = poolNames[pool.name] {
                throw (item.nameReader ?? item).error(
                    "duplicate pool name `\(pool.name)`\(first.firstAt); pool names must be unique")
            }
            poolNames[pool.name] = item.nameReader ?? item
            pools.append(pool)
        }

        let workloadsReader = try top.required("workloads", expecting: "a non-empty list of workloads")
        var workloads: [WorkloadSpec] = []
        var workloadNames: [String: NodeReader] = [:]
        var firstLoRA: (reader: NodeReader, workload: String)?
        for item in try workloadsReader.sequence(nonEmpty: true, of: "workloads") {
            let workload = try item.workload(pools: pools.map(\.name), clusters: clusterNames)
            if let first = workloadNames[workload.name] {
                throw (item.nameReader ?? item).error(
                    "duplicate workload name `\(workload.name)`\(first.firstAt); workload names must be unique")
            }
            workloadNames[workload.name] = item.nameReader ?? item
            if workload.lora != nil, firstLoRA == nil {
                firstLoRA = (try item.mapping(keys: ScenarioKeys.workload).keyReader("lora") ?? item, workload.name)
            }
            if workload.lora != nil, let pool = pools.first(where: { $0.name == workload.pool }),
                !Self.servesLoRA(pool)
            {
                let lora = try item.mapping(keys: ScenarioKeys.workload).keyReader("lora") ?? item
                throw lora.error(
                    "workload `\(workload.name)` names LoRA adapters, but pool `\(pool.name)` does not serve them "
                        + "(set `max-loras` in its gpu block)")
            }
            workloads.append(workload)
            // A request record holds its adapter in 16 bits.
            if workload.lora != nil, Set(workloads.flatMap { $0.lora?.adapters ?? [] }).count > Int(Int16.max) {
                throw item.error("the workloads name more than \(Int16.max) distinct LoRA adapters")
            }
        }

        let endsWhenDone = workloads.allSatisfy { $0.maxRequests != nil }
        if givenHorizon == nil && !endsWhenDone {
            throw root.error(
                "missing required key `horizon` (a duration > 0, like 10m); only a scenario whose workloads all "
                    + "send a fixed number of `requests` may leave it out")
        }

        // Clusters without a `mesh` block are a mesh with the defaults.
        let mesh =
            try clusters.map { clusters throws(ScenarioError) in
                try top["mesh"]?.mesh(clusters: clusters, pools: pools) ?? MeshSpec(clusters: clusters)
            }

        let disaggregation = try Self.disaggregation(
            top, pools: pools, poolReaders: poolNames, workloads: workloads, workloadReaders: workloadNames, mesh: mesh)
        // A split request would need its adapter on both its prefill and its decode replica; not modeled.
        if disaggregation != nil, let (lora, workload) = firstLoRA {
            throw lora.error(
                "workload `\(workload)` names LoRA adapters, which are not modeled with `disaggregation` (the prefill "
                    + "and the decode replica would each need the adapter); drop one of them")
        }

        var fleet = FleetSpec(
            pools: pools, workloads: workloads, horizon: horizon, warmup: warmup, drain: drain,
            drainTimeout: drainTimeout, sampleInterval: sampleInterval, slo: slo, router: router,
            endpointPicker: endpointPicker)
        fleet.mesh = mesh
        fleet.disaggregation = disaggregation
        fleet.endsWhenDone = endsWhenDone
        let files = root.context.namedFiles.files
        return Scenario(
            name: name, description: description, seed: seed, replications: replications,
            policies: policies, fleet: fleet, sourceText: text, sha256: Scenario.identity(text: text, files: files),
            file: file, namedFiles: files)
    }

    /// `policies`: a non-empty list of distinct names, registered or profiles of `endpoint-picker`.
    private static func readPolicies(_ reader: NodeReader, known registered: [String]) throws(ScenarioError) -> [String]
    {
        var policies: [String] = []
        for item in try reader.sequence(nonEmpty: true, of: "policy names (\(registered.joined(separator: ", ")))") {
            let name = try item.string("a policy name")
            guard registered.contains(name) else {
                throw item.error("unknown policy `\(name)`" + Suggestions.hint(for: name, among: registered))
            }
            guard !policies.contains(name) else { throw item.error("policy `\(name)` is listed twice") }
            policies.append(name)
        }
        return policies
    }

    /// The directory of the file at `path` as written (`scenarios` for `scenarios/a.yaml`, empty for `a.yaml`),
    /// so relative paths inside the file resolve as they would from the file's own directory.
    static func directory(of path: String) -> String {
        (path as NSString).deletingLastPathComponent
    }

    /// The file's base name without extension, made into a valid name (`my run.yaml` becomes `my-run`).
    static func defaultName(for file: String) -> String {
        let base = (file as NSString).lastPathComponent
        let stem = base.contains(".") && !base.hasPrefix(".") ? (base as NSString).deletingPathExtension : base
        let cleaned = String(
            stem.unicodeScalars.map { scalar -> Character in
                NodeReader.isName(String(scalar)) ? Character(scalar) : "-"
            })
        return cleaned.isEmpty ? "scenario" : cleaned
    }

    /// Whether a pool's replicas serve LoRA adapters (a gpu pool with `max-loras`).
    static func servesLoRA(_ pool: PoolSpec) -> Bool {
        if case .gpu(let gpu) = pool.replica { return gpu.lora != nil }
        return false
    }
}

extension NodeReader {
    /// The `name` value of a mapping item, to point duplicate-name errors at it.
    var nameReader: NodeReader? {
        guard case .mapping(let mapping) = node else { return nil }
        for (key, value) in mapping where key.scalar?.string == "name" { return child(value, key: "name") }
        return nil
    }

    /// " (first at LINE:COLUMN)", or nothing without a position.
    var firstAt: String { position.map { " (first at \($0.line):\($0.column))" } ?? "" }
}
