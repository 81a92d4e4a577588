import Foundation
import Yams

/// A sweep file: a base scenario and a grid of values to substitute into it, one run per grid point.
///
/// Points are enumerated in a fixed order: the grid's keys in file order, the last key fastest (mixed radix).
/// `policy` and `seed` are special keys (which policy runs, which run seed); when absent they are implicit
/// trailing keys with the base scenario's `policies` and its seeds `seed ..< seed + replications`.
/// docs/sweeps.md describes the format.
public struct Sweep {
    /// What a grid key addresses.
    public enum Parameter: Equatable, Sendable {
        /// A field of the scenario, by its path (`pools[0].replicas`).
        case path(String)
        /// The routing policy of the run.
        case policy
        /// The run seed.
        case seed
        /// A named case of the file's `cases`: several paths set together (a fleet layout, say).
        case named
    }

    /// One path set by a case.
    struct Setting {
        let key: String
        let path: [PathSegment]
        let node: Node
        let reader: NodeReader
    }

    /// One key of the grid with its values, in the file's order.
    public struct Dimension {
        /// What the key addresses.
        public let parameter: Parameter
        /// The key as written (`policy` and `seed` for implicit keys).
        public let key: String
        /// Each value as it reads in a table.
        public let values: [String]
        /// The values' YAML nodes (scenario paths only).
        let nodes: [Node]
        /// The parsed path (scenario paths only).
        let path: [PathSegment]
        /// The values' readers in the sweep file, to locate errors; empty for implicit keys.
        let readers: [NodeReader]
        /// For `cases`: each case's settings.
        var settings: [[Setting]] = []
    }

    /// A bound on one summary metric of a run.
    public struct Target: Sendable, Equatable {
        /// The summary metric's name (`ttft_ms_p99`, `slo_attainment`; see docs/metrics.md).
        public var metric: String
        /// The largest value that meets the target, if bounded above.
        public var atMost: Double?
        /// The smallest value that meets the target, if bounded below.
        public var atLeast: Double?

        /// Whether `value` meets the target; a missing or undefined value never does.
        public func isMet(by value: Double?) -> Bool {
            guard let value, value.isFinite else { return false }
            return (atMost.map { value <= $0 } ?? true) && (atLeast.map { value >= $0 } ?? true)
        }
    }

    /// The capacity question of `--plan-slo`: the fewest replicas at `replicasPath` whose runs meet `targets`.
    public struct Plan: Sendable {
        /// The path of the replica count to bisect on, such as `pools[0].replicas`.
        public var replicasPath: String
        /// The smallest replica count tried.
        public var minimum: Int
        /// The largest replica count tried.
        public var maximum: Int
        /// The bounds every run must meet.
        public var targets: [Target]
    }

    /// The sweep file as named by the caller.
    public let file: String
    /// The base scenario, loaded as is.
    public let base: Scenario
    /// The grid's keys in enumeration order (file order, then implicit `policy` and `seed`).
    public let dimensions: [Dimension]
    /// The capacity plan, if the file has one.
    public let plan: Plan?
    /// The summary metrics its table shows (docs/metrics.md names); empty: the defaults.
    public var metrics: [String] = []
    let baseRoot: Node
    let planPath: [PathSegment]

    /// How many points the grid has.
    public var pointCount: Int { dimensions.reduce(1) { $0 * $1.values.count } }

    /// The index of the `seed` dimension.
    public var seedDimension: Int { dimensions.firstIndex { $0.parameter == .seed }! }

    /// The value index of each dimension at point `index`: mixed radix, the last dimension fastest.
    public func coordinates(of index: Int) -> [Int] {
        var rest = index
        var result = [Int](repeating: 0, count: dimensions.count)
        for dimension in dimensions.indices.reversed() {
            result[dimension] = rest % dimensions[dimension].values.count
            rest /= dimensions[dimension].values.count
        }
        return result
    }

    /// Point `index` of the grid, validated by the scenario loader.
    public func point(_ index: Int) throws(ScenarioError) -> SweepPoint {
        try point(coordinates: coordinates(of: index), index: index)
    }

    /// The point at `coordinates`, with the plan's replica count set to `replicas` when given.
    public func point(coordinates: [Int], index: Int, replicas: Int? = nil) throws(ScenarioError) -> SweepPoint {
        var root = baseRoot
        var policy = base.policies[0]
        var seed = base.seed
        var replication = 0
        var parameters: [SweepPoint.Parameter] = []
        for (dimension, valueIndex) in zip(dimensions, coordinates) {
            parameters.append(.init(key: dimension.key, value: dimension.values[valueIndex]))
            switch dimension.parameter {
            case .policy: policy = dimension.values[valueIndex]
            case .seed:
                seed = UInt64(dimension.values[valueIndex])!
                replication = valueIndex
            case .path:
                do throws(SubstitutionError) {
                    root = try Self.substitute(dimension.nodes[valueIndex], at: dimension.path[...], in: root)
                } catch {
                    throw dimension.readers[valueIndex].error(error.message)
                }
            case .named:
                for setting in dimension.settings[valueIndex] {
                    do throws(SubstitutionError) {
                        root = try Self.substitute(setting.node, at: setting.path[...], in: root)
                    } catch {
                        throw setting.reader.error(error.message)
                    }
                }
            }
        }
        if let replicas, let plan {
            parameters.append(.init(key: plan.replicasPath, value: String(replicas)))
            root = (try? Self.substitute(Node(String(replicas)), at: planPath[...], in: root)) ?? root
        }
        let text: String
        do {
            text = try Yams.serialize(node: root)
        } catch {
            throw ScenarioError(
                kind: .invalid, file: file, line: nil, column: nil, path: "",
                message: "cannot write grid point \(index) as YAML: \(error)")
        }
        let scenario: Scenario
        do throws(ScenarioError) {
            scenario = try ScenarioLoader.parse(
                text, file: base.file, baseDirectory: ScenarioLoader.directory(of: base.file))
        } catch {
            throw relocate(error, coordinates: coordinates, parameters: parameters)
        }
        return SweepPoint(
            index: index, parameters: parameters, scenario: scenario, policy: policy, seed: seed,
            replication: replication)
    }

    /// An error in a point's scenario: at the grid value that caused it when its path is one of the grid's,
    /// otherwise in the sweep file with the point's parameters (the point's text has no lines of its own).
    private func relocate(
        _ error: ScenarioError, coordinates: [Int], parameters: [SweepPoint.Parameter]
    ) -> ScenarioError {
        let described = parameters.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        let at = error.path.isEmpty ? "" : "at \(error.path): "
        for (dimension, valueIndex) in zip(dimensions, coordinates) {
            if dimension.parameter == .named {
                for setting in dimension.settings[valueIndex]
                where Self.isUnder(error.path, setting.key)
                    || Self.isUnder(error.path, Self.loaderPath(setting.path, in: baseRoot))
                {
                    return setting.reader.error("in \(base.file) \(at)\(error.message) (grid point \(described))")
                }
                continue
            }
            guard case .path(let key) = dimension.parameter,
                Self.isUnder(error.path, key) || Self.isUnder(error.path, Self.loaderPath(dimension.path, in: baseRoot))
            else { continue }
            return dimension.readers[valueIndex].error(
                "in \(base.file) \(at)\(error.message) (grid point \(described))")
        }
        return ScenarioError(
            kind: .invalid, file: file, line: nil, column: nil, path: "",
            message: "grid point \(described): \(base.file): \(at)\(error.message)")
    }

    // MARK: - Loading

    /// Whether the file at `path` is a sweep file rather than a scenario: a YAML mapping with both `scenario`
    /// and `grid` at its top (no scenario has either key). False when it cannot be read or parsed: loading it
    /// as a scenario then reports why.
    public static func isSweepFile(path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
            let root = try? YamlDocument.parse(text, file: path).root, let mapping = root.mapping
        else { return false }
        let keys = Set(mapping.compactMap { $0.key.scalar?.string })
        return keys.contains("scenario") && keys.contains("grid")
    }

    /// Reads the sweep file at `path` and the scenario it names (relative to the sweep file).
    public static func load(path: String) throws(ScenarioError) -> Sweep {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ScenarioError(
                kind: .fileNotFound, file: path, line: nil, column: nil, path: "", message: "no such file")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw ScenarioError(
                kind: .unreadable, file: path, line: nil, column: nil, path: "", message: "not readable UTF-8 text")
        }
        return try parse(text, file: path)
    }

    /// Parses sweep text; `file` names it in errors and the scenario path is relative to its directory.
    public static func parse(_ text: String, file: String) throws(ScenarioError) -> Sweep {
        let top = try YamlDocument.topMapping(
            text, file: file, keys: ScenarioKeys.sweep, what: "a mapping with `scenario` and `grid`")
        let scenarioReader = try top.required("scenario", expecting: "the base scenario's file, like quickstart.yaml")
        let relative = try scenarioReader.string("the base scenario's file")
        let directory = ScenarioLoader.directory(of: file)
        let scenarioPath =
            relative.hasPrefix("/") || directory.isEmpty
            ? relative : (directory as NSString).appendingPathComponent(relative)
        let base: Scenario
        do throws(ScenarioError) {
            base = try ScenarioLoader.load(path: scenarioPath)
        } catch  where error.kind == .fileNotFound {
            throw scenarioReader.error("no scenario file at \(scenarioPath)")
        }
        guard let baseRoot = try YamlDocument.parse(base.sourceText, file: base.file).root else {
            throw scenarioReader.error("the scenario file is empty")
        }

        var dimensions: [Dimension] = []
        if let casesReader = top["cases"] {
            dimensions.append(try readCases(casesReader, baseRoot: baseRoot))
        }
        let gridReader = try top.required("grid", expecting: "a mapping from scenario paths to lists of values")
        let grid = try anyKeys(gridReader, what: "a mapping from scenario paths to lists of values")
        for (key, reader) in grid.entries {
            let values = try reader.sequence(nonEmpty: true, of: "values for `\(key)`")
            switch key {
            case "policy":
                var names: [String] = []
                for item in values {
                    let name = try item.string("a policy name")
                    guard base.fleet.policyEntry(named: name) != nil else {
                        throw item.error(
                            "unknown policy `\(name)`" + Suggestions.hint(for: name, among: base.fleet.policyNames))
                    }
                    guard !names.contains(name) else { throw item.error("policy `\(name)` is listed twice") }
                    names.append(name)
                }
                dimensions.append(
                    Dimension(parameter: .policy, key: key, values: names, nodes: [], path: [], readers: values))
            case "seed":
                var seeds: [String] = []
                for item in values {
                    let seed = String(try item.unsigned64())
                    guard !seeds.contains(seed) else { throw item.error("seed \(seed) is listed twice") }
                    seeds.append(seed)
                }
                dimensions.append(
                    Dimension(parameter: .seed, key: key, values: seeds, nodes: [], path: [], readers: values))
            default:
                let keyReader = grid.keyReader(key) ?? reader
                guard let path = PathSegment.parse(key) else {
                    throw keyReader.error(
                        "`\(key)` is not a scenario path; expected keys and list indexes like pools[0].replicas")
                }
                do throws(SubstitutionError) {
                    _ = try substitute(values[0].node, at: path[...], in: baseRoot)
                } catch {
                    throw keyReader.error(error.message)
                }
                dimensions.append(
                    Dimension(
                        parameter: .path(key), key: key, values: values.map { $0.scalarText ?? $0.found },
                        nodes: values.map(\.node), path: path, readers: values))
            }
        }
        if !dimensions.contains(where: { $0.parameter == .policy }) {
            dimensions.append(
                Dimension(parameter: .policy, key: "policy", values: base.policies, nodes: [], path: [], readers: []))
        }
        if !dimensions.contains(where: { $0.parameter == .seed }) {
            let seeds = (0..<base.replications).map { String(base.seed &+ UInt64($0)) }
            dimensions.append(Dimension(parameter: .seed, key: "seed", values: seeds, nodes: [], path: [], readers: []))
        }

        var plan: Plan?
        var planPath: [PathSegment] = []
        if let planReader = top["plan"] {
            (plan, planPath) = try readPlan(planReader, grid: grid, baseRoot: baseRoot)
        }
        var sweep = Sweep(
            file: file, base: base, dimensions: dimensions, plan: plan, baseRoot: baseRoot, planPath: planPath)
        if let metricsReader = top["metrics"] {
            sweep.metrics = try metricsReader.sequence(nonEmpty: true, of: "summary metrics").map {
                item throws(ScenarioError) in try item.string("a summary metric name, like ttft_ms_p99")
            }
        }
        return sweep
    }

    /// `cases`: named sets of paths and values substituted together, a dimension of their own (key `case`),
    /// enumerated before the grid's keys.
    private static func readCases(_ reader: NodeReader, baseRoot: Node) throws(ScenarioError) -> Dimension {
        var names: [String] = []
        var settings: [[Setting]] = []
        let items = try reader.sequence(nonEmpty: true, of: "cases")
        for item in items {
            let fields = try item.mapping(
                keys: ScenarioKeys.sweepCase, what: "a case like {name: a, set: {path: value}}")
            let name = try fields.required("name", expecting: "the case's name").name()
            guard !names.contains(name) else { throw item.error("case `\(name)` is listed twice") }
            let setReader = try fields.required("set", expecting: "a mapping from scenario paths to values")
            let set = try anyKeys(setReader, what: "a mapping from scenario paths to values")
            var caseSettings: [Setting] = []
            for (key, value) in set.entries {
                let keyReader = set.keyReader(key) ?? value
                guard let path = PathSegment.parse(key) else {
                    throw keyReader.error(
                        "`\(key)` is not a scenario path; expected keys and list indexes like pools[0].replicas")
                }
                caseSettings.append(Setting(key: key, path: path, node: value.node, reader: value))
            }
            names.append(name)
            settings.append(caseSettings)
        }
        var dimension = Dimension(parameter: .named, key: "case", values: names, nodes: [], path: [], readers: items)
        dimension.settings = settings
        return dimension
    }

    private static func readPlan(
        _ reader: NodeReader, grid: MappingReader, baseRoot: Node
    ) throws(ScenarioError) -> (Plan, [PathSegment]) {
        let plan = try reader.mapping(
            keys: ScenarioKeys.sweepPlan, what: "a mapping with `replicas-path` and `targets`")
        let pathReader = try plan.required("replicas-path", expecting: "a scenario path, like pools[0].replicas")
        let pathText = try pathReader.string("a scenario path, like pools[0].replicas")
        guard let path = PathSegment.parse(pathText) else {
            throw pathReader.expected("a scenario path, like pools[0].replicas")
        }
        if grid.entries[pathText] != nil {
            throw pathReader.error("`\(pathText)` is also a grid key; the plan chooses its values")
        }
        do throws(SubstitutionError) {
            _ = try substitute(Node("1"), at: path[...], in: baseRoot)
        } catch {
            throw pathReader.error(error.message)
        }
        let minimum = try plan["min"]?.integer(in: 1...100_000) ?? 1
        let maximum = try plan["max"]?.integer(in: 1...100_000) ?? 64
        if let maxReader = plan["max"], maximum < minimum {
            throw maxReader.expected("a maximum of at least min (\(minimum))")
        }
        let targetsReader = try plan.required("targets", expecting: "a mapping from summary metrics to bounds")
        let targetMap = try anyKeys(targetsReader, what: "a mapping from summary metrics to bounds")
        guard !targetMap.entries.isEmpty else { throw targetsReader.expected("at least one target") }
        var targets: [Target] = []
        for (metric, boundReader) in targetMap.entries {
            let bounds = try boundReader.mapping(
                keys: ScenarioKeys.sweepBound, what: "a bound like {max: 1000} or {min: 0.99}")
            let atMost = try bounds["max"]?.number(.finite)
            let atLeast = try bounds["min"]?.number(.finite)
            if atMost == nil && atLeast == nil { throw boundReader.expected("a bound like {max: 1000} or {min: 0.99}") }
            targets.append(Target(metric: metric, atMost: atMost, atLeast: atLeast))
        }
        return (Plan(replicasPath: pathText, minimum: minimum, maximum: maximum, targets: targets), path)
    }

    /// A mapping whose keys are free (grid paths, metric names), still checked for repetitions.
    private static func anyKeys(_ reader: NodeReader, what: String) throws(ScenarioError) -> MappingReader {
        guard case .mapping(let mapping) = reader.node else { throw reader.expected(what) }
        let keys = mapping.compactMap { $0.key.scalar?.string } + reader.context.renamedKeys.values
        return try reader.mapping(keys: keys, what: what)
    }

    // MARK: - Paths

    /// A failure to substitute: the path does not lead anywhere in the scenario.
    struct SubstitutionError: Error {
        let message: String
    }

    /// `node` with the node at `path` replaced by `value`. Missing mapping keys are created (a setting left at
    /// its default); list items must exist.
    static func substitute(
        _ value: Node, at path: ArraySlice<PathSegment>, in node: Node?
    ) throws(SubstitutionError) -> Node {
        guard let segment = path.first else { return value }
        let rest = path.dropFirst()
        switch segment {
        case .key(let key):
            if node == nil || node?.scalar.map({ ["", "~", "null"].contains($0.string) }) == true {
                return Node([(Node(key), try substitute(value, at: rest, in: nil))])
            }
            guard case .mapping(let mapping) = node else {
                throw SubstitutionError(message: "cannot set `\(key)`: the scenario has no mapping there")
            }
            var pairs = mapping.map { ($0.key, $0.value) }
            if let index = pairs.firstIndex(where: { $0.0.scalar?.string == key }) {
                pairs[index].1 = try substitute(value, at: rest, in: pairs[index].1)
            } else {
                pairs.append((Node(key), try substitute(value, at: rest, in: nil)))
            }
            return .mapping(Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark, mapping.anchor))
        case .index(let index):
            guard case .sequence(let sequence) = node else {
                throw SubstitutionError(message: "cannot take item [\(index)]: the scenario has no list there")
            }
            var items = Array(sequence)
            guard items.indices.contains(index) else {
                throw SubstitutionError(message: "item [\(index)] does not exist; the list has \(items.count) item(s)")
            }
            items[index] = try substitute(value, at: rest, in: items[index])
            return .sequence(Node.Sequence(items, sequence.tag, sequence.style, sequence.mark, sequence.anchor))
        case .named(let name):
            guard case .sequence(let sequence) = node else {
                throw SubstitutionError(message: "cannot take item [\(name)]: the scenario has no list there")
            }
            var items = Array(sequence)
            guard
                let index = items.firstIndex(where: {
                    $0.mapping?.first { $0.key.scalar?.string == "name" }?.value.scalar?.string == name
                })
            else {
                throw SubstitutionError(message: "no item named `\(name)` in the list")
            }
            items[index] = try substitute(value, at: rest, in: items[index])
            return .sequence(Node.Sequence(items, sequence.tag, sequence.style, sequence.mark, sequence.anchor))
        }
    }
}

extension Sweep {
    /// `path` as the loader spells paths in its errors: list items named `[chat]` become their `[index]` in
    /// `root` (left as they are where there is no such item).
    static func loaderPath(_ path: [PathSegment], in root: Node?) -> String {
        var text = ""
        var node = root
        for segment in path {
            switch segment {
            case .key(let key):
                text += text.isEmpty ? key : ".\(key)"
                node = node?.mapping?.first { $0.key.scalar?.string == key }?.value
            case .index(let index):
                text += "[\(index)]"
                node = node?.sequence.flatMap { $0.indices.contains(index) ? $0[index] : nil }
            case .named(let name):
                let items = node?.sequence.map(Array.init) ?? []
                let found = items.firstIndex {
                    $0.mapping?.first { $0.key.scalar?.string == "name" }?.value.scalar?.string == name
                }
                text += found.map { "[\($0)]" } ?? "[\(name)]"
                node = found.map { items[$0] }
            }
        }
        return text
    }

    /// Whether an error at `errorPath` lies at or under `path`.
    static func isUnder(_ errorPath: String, _ path: String) -> Bool {
        errorPath == path || errorPath.hasPrefix(path + ".") || errorPath.hasPrefix(path + "[")
    }
}

/// One step of a scenario path: a mapping key, a list index, or a list item by its `name`.
enum PathSegment: Equatable {
    case key(String)
    case index(Int)
    case named(String)

    /// Parses `pools[0].station.servers` or `workloads[chat].rate`; nil if malformed.
    static func parse(_ text: String) -> [PathSegment]? {
        var segments: [PathSegment] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            let open = part.firstIndex(of: "[") ?? part.endIndex
            let key = part[..<open]
            guard !key.isEmpty, !key.contains("]") else { return nil }
            segments.append(.key(String(key)))
            var rest = part[open...]
            while !rest.isEmpty {
                guard rest.first == "[", let close = rest.firstIndex(of: "]") else { return nil }
                let inside = rest[rest.index(after: rest.startIndex)..<close]
                guard !inside.isEmpty, !inside.contains("[") else { return nil }
                segments.append(Int(inside).map { .index($0) } ?? .named(String(inside)))
                rest = rest[rest.index(after: close)...]
            }
        }
        return segments
    }
}

/// One point of a sweep: its parameters, the scenario with them substituted, and the run to do.
public struct SweepPoint: Sendable {
    /// A grid key and its value at this point.
    public struct Parameter: Sendable, Equatable {
        /// The grid key.
        public var key: String
        /// The value as it reads in a table.
        public var value: String
    }

    /// The point's index in the grid's enumeration order.
    public var index: Int
    /// Every grid key's value at this point, in the grid's order.
    public var parameters: [Parameter]
    /// The base scenario with the point's values substituted; its `sourceText` is complete and reproducible.
    public var scenario: Scenario
    /// The policy to run.
    public var policy: String
    /// The run seed.
    public var seed: UInt64
    /// The index of the seed in the grid's seed list.
    public var replication: Int
}
