import SimKernel
import Yams

/// A position in the source, 1-based, as libyaml reports it.
struct SourcePosition: Hashable {
    var line: Int
    var column: Int
}

/// What every reader of one document shares: the file name for errors, keys renamed to get past Yams'
/// duplicate-key check (see ``YamlDocument``), and the directory relative file paths in the document start from.
struct ReaderContext {
    let file: String
    /// Original text of keys that were renamed in the parsed copy, by position.
    let renamedKeys: [SourcePosition: String]
    /// The scenario file's directory; empty for the current directory (text that came from no file).
    var baseDirectory: String = ""
    /// The files the document names, recorded as they are read (see DataFiles.swift); shared by every reader.
    let namedFiles = NamedFileLog()
}

/// The files one load reads, in the order first read, each once (by resolved path): an array, so the order, and
/// with it the scenario's identity, is the same on every load of the same text.
final class NamedFileLog {
    private(set) var files: [NamedFile] = []

    /// Adds `file` unless a file at the same resolved path was read already.
    func record(_ file: NamedFile) {
        guard !files.contains(where: { $0.resolvedPath == file.resolvedPath }) else { return }
        files.append(file)
    }
}

/// A YAML node with its path, giving typed access that throws located ``ScenarioError``s.
///
/// Each accessor states what it expects; a mismatch becomes "expected X, found Y" at the node's line and column.
struct NodeReader {
    let node: Node
    /// Path of this node from the document root, such as `pools[0].station.service`.
    let path: String
    let context: ReaderContext

    var position: SourcePosition? { node.mark.map { SourcePosition(line: $0.line, column: $0.column) } }

    /// An error at this node.
    func error(_ message: String) -> ScenarioError {
        ScenarioError(
            kind: .invalid, file: context.file, line: node.mark?.line, column: node.mark?.column,
            path: path, message: message)
    }

    /// "expected `what`, found <this node>".
    func expected(_ what: String) -> ScenarioError { error("expected \(what), found \(found)") }

    /// The reader of the value at `key` of this mapping (path `PATH.key`).
    func child(_ node: Node, key: String) -> NodeReader {
        NodeReader(node: node, path: path.isEmpty ? key : "\(path).\(key)", context: context)
    }

    /// The reader of item `index` of this list (path `PATH[index]`).
    func child(_ node: Node, index: Int) -> NodeReader {
        NodeReader(node: node, path: "\(path)[\(index)]", context: context)
    }

    // MARK: - What the node is

    /// The scalar's text, whatever its style.
    var scalarText: String? { node.scalar?.string }

    /// Whether this is YAML null: `~`, `null`, or nothing at all, unquoted.
    var isNull: Bool {
        guard let scalar = node.scalar else { return false }
        if scalar.tag.rawValue == Self.nullTag { return true }
        guard scalar.style == .plain, scalar.tag.rawValue.isEmpty else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// An unquoted scalar without an explicit string tag: the only kind read as a number or boolean.
    ///
    /// Yams' `Tag` resolves in place when asked for a node's type, so a plain scalar's tag is either still
    /// implicit (empty) or one of the core types; only quoting or an explicit `!!str` makes it text.
    var isBareScalar: Bool {
        guard let scalar = node.scalar, scalar.style == .plain else { return false }
        return Self.bareTags.contains(scalar.tag.rawValue)
    }

    private static let nullTag = "tag:yaml.org,2002:null"
    private static let bareTags: Set<String> = [
        "", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", nullTag,
    ]

    /// How this node reads in an error: numbers and keywords as written, strings quoted, collections by kind.
    var found: String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            if isNull { return scalar.string.isEmpty ? "nothing" : "null" }
            let text = Self.abbreviated(scalar.string)
            let lowered = scalar.string.lowercased()
            if isBareScalar,
                Units.number(scalar.string) != .notANumber || lowered == "true" || lowered == "false"
            {
                return text
            }
            return Self.quoted(text)
        }
    }

    /// `text` in double quotes, with quotes, backslashes and control characters escaped.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    result += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    private static func abbreviated(_ text: String) -> String {
        text.count > 60 ? String(text.prefix(57)) + "..." : text
    }

    // MARK: - Typed access

    /// A non-null scalar's text.
    func string(_ what: String = "a string") throws(ScenarioError) -> String {
        guard let text = scalarText, !isNull else { throw expected(what) }
        return text
    }

    /// One of `Choice`'s raw values, as `Choice`; `what` names the setting in the error (`unknown what \`x\``).
    func choice<Choice: RawRepresentable & CaseIterable>(_ what: String) throws(ScenarioError) -> Choice
    where Choice.RawValue == String {
        let known = Choice.allCases.map(\.rawValue)
        let name = try string("one of: \(known.joined(separator: ", "))")
        guard let value = Choice(rawValue: name) else {
            throw error("unknown \(what) `\(name)`" + Suggestions.hint(for: name, among: known))
        }
        return value
    }

    /// A name: `[A-Za-z0-9._-]+`, so it can appear in stream names, file names and SQL without quoting.
    func name() throws(ScenarioError) -> String {
        let what = "a name of letters, digits, `.`, `_` and `-`"
        let text = try string(what)
        guard Self.isName(text) else { throw expected(what) }
        return text
    }

    static func isName(_ text: String) -> Bool {
        !text.isEmpty
            && text.unicodeScalars.allSatisfy {
                ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9")
                    || $0 == "." || $0 == "_" || $0 == "-"
            }
    }

    /// `true` or `false` (in any case). YAML 1.1's `yes`/`no`/`on`/`off` are refused as too easy to misread.
    func bool() throws(ScenarioError) -> Bool {
        guard isBareScalar, let text = scalarText?.lowercased(), text == "true" || text == "false" else {
            throw expected("true or false")
        }
        return text == "true"
    }

    /// An integer in `range`. The message names the bound that was crossed: "a positive integer" for `-3`,
    /// "an integer in 1...100000" for `200000` or for something that is not an integer at all.
    func integer(in range: ClosedRange<Int>) throws(ScenarioError) -> Int {
        let whole = Self.describe(range)
        guard isBareScalar, let text = scalarText else { throw expected(whole) }
        switch Units.integer(text) {
        case .notAnInteger: throw expected(whole)
        case .tooLarge(let negative): throw expected(negative ? Self.describeLower(range) : whole)
        case .value(let negative, let magnitude):
            guard magnitude <= UInt64(Int.max) else { throw expected(negative ? Self.describeLower(range) : whole) }
            let value = negative ? -Int(magnitude) : Int(magnitude)
            if value < range.lowerBound { throw expected(Self.describeLower(range)) }
            if value > range.upperBound { throw expected(whole) }
            return value
        }
    }

    private static func describe(_ range: ClosedRange<Int>) -> String {
        range.upperBound == .max ? describeLower(range) : "an integer in \(range.lowerBound)...\(range.upperBound)"
    }

    private static func describeLower(_ range: ClosedRange<Int>) -> String {
        switch range.lowerBound {
        case 1: return "a positive integer"
        case 0: return "a non-negative integer"
        default: return "an integer >= \(range.lowerBound)"
        }
    }

    /// An unsigned 64-bit integer, for seeds.
    func unsigned64() throws(ScenarioError) -> UInt64 {
        let what = "an integer in 0...\(UInt64.max)"
        guard isBareScalar, let text = scalarText, case .value(let negative, let magnitude) = Units.integer(text),
            !negative || magnitude == 0
        else { throw expected(what) }
        return magnitude
    }

    /// A finite number satisfying `bound`.
    func number(_ bound: NumberBound) throws(ScenarioError) -> Double {
        guard isBareScalar, let text = scalarText else { throw expected(bound.noun) }
        switch Units.number(text) {
        case .notANumber: throw expected(bound.noun)
        case .notFinite: throw expected("a finite number")
        case .value(let value):
            guard bound.admits(value) else { throw expected(bound.noun) }
            return value
        }
    }

    /// A duration such as `250ms` or `1.5s`; `0` and `0s` only if `allowZero`.
    func duration(allowZero: Bool) throws(ScenarioError) -> SimTime {
        let what = allowZero ? "a duration" : "a duration > 0"
        guard let text = scalarText, !isNull else { throw expected("\(what) with a unit, like 250ms or 2s") }
        switch Units.duration(text) {
        case .missingUnit, .malformed:
            throw expected("\(what) with a unit (ns, us, ms, s, m, h), like 250ms or 2s")
        case .negative: throw expected(allowZero ? "a non-negative duration" : "a positive duration")
        case .tooLarge: throw expected("a duration of at most 2^63-1 ns (about 292 years)")
        case .value(let time):
            guard allowZero || time > .zero else { throw expected(what) }
            return time
        }
    }

    /// A duration of the network: a latency or a processing time on a mesh path, `0` allowed, at most
    /// ``maximumNetworkLatency``. A path adds several of them and multiplies them by its handshakes' round
    /// trips, so unbounded ones would overflow the nanosecond clock; an hour is already far beyond any network.
    func networkLatency() throws(ScenarioError) -> SimTime {
        let time = try duration(allowZero: true)
        guard time <= Self.maximumNetworkLatency else {
            throw expected("a network latency of at most 1h")
        }
        return time
    }

    /// The longest latency or processing time a mesh field takes (`networkLatency()`).
    static let maximumNetworkLatency = SimTime.seconds(3600)

    /// A rate such as `20/s`, `1200/m` or `3/h`, as requests per second; `0/s` only if `allowZero`.
    func rate(allowZero: Bool = false) throws(ScenarioError) -> Double {
        let what = "a rate \(allowZero ? ">= 0" : "> 0") with a unit, like 20/s, 1200/m or 3/h"
        guard let text = scalarText, !isNull else { throw expected(what) }
        switch Units.rate(text) {
        case .missingUnit, .malformed, .negative: throw expected(what)
        case .tooLarge: throw expected("a rate of at most 1e9/s (arrival gaps are counted in nanoseconds)")
        case .perSecond(let value):
            guard value > 0 || (allowZero && value == 0) else { throw expected(what) }
            return value
        }
    }

    /// A bandwidth such as `10Gbps`, `400Mbps` or `1e9bps`, as bits per second, > 0.
    func bandwidth() throws(ScenarioError) -> Double {
        let what = "a bandwidth > 0 with a unit (bps, Kbps, Mbps, Gbps, Tbps), like 10Gbps or 400Mbps"
        guard let text = scalarText, !isNull else { throw expected(what) }
        switch Units.bandwidth(text) {
        case .missingUnit, .malformed, .negative: throw expected(what)
        case .notFinite: throw expected("a finite bandwidth")
        case .bitsPerSecond(let value):
            guard value > 0 else { throw expected(what) }
            return value
        }
    }

    /// A multiplier of a rate: `3x`, `0.5x`, or a bare number (`3`), >= 0.
    func multiplier() throws(ScenarioError) -> Double {
        let what = "a multiplier >= 0, like 3x or 0.5x"
        guard let text = scalarText, !isNull else { throw expected(what) }
        let digits = text.hasSuffix("x") ? Substring(text.dropLast()) : (isBareScalar ? Substring(text) : "")
        guard Units.isDecimalLiteral(digits), let value = Double(String(digits)), value.isFinite, value >= 0 else {
            throw expected(what)
        }
        return value
    }

    /// The items of a list.
    func sequence(nonEmpty: Bool, of what: String) throws(ScenarioError) -> [NodeReader] {
        guard case .sequence(let items) = node else {
            throw expected(nonEmpty ? "a non-empty list of \(what)" : "a list of \(what)")
        }
        guard !nonEmpty || !items.isEmpty else { throw expected("a non-empty list of \(what)") }
        return items.enumerated().map { child($1, index: $0) }
    }

    /// This node as a mapping whose keys are all among `keys`; see ``MappingReader``.
    func mapping(keys: [String], what: String = "a mapping") throws(ScenarioError) -> MappingReader {
        try MappingReader(self, keys: keys, what: what)
    }
}

/// A constraint on a plain number, with the words that name it in errors.
enum NumberBound: Equatable {
    case positive, nonNegative, finite
    case atLeast(Double)

    var noun: String {
        switch self {
        case .positive: return "a number > 0"
        case .nonNegative: return "a number >= 0"
        case .finite: return "a finite number"
        case .atLeast(let minimum): return "a number >= \(minimum)"
        }
    }

    func admits(_ value: Double) -> Bool {
        switch self {
        case .positive: return value > 0
        case .nonNegative: return value >= 0
        case .finite: return value.isFinite
        case .atLeast(let minimum): return value >= minimum
        }
    }
}
