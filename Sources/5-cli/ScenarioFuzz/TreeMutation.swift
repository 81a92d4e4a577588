import Foundation
import Yams

/// The structure and value mutations, applied to a YAML tree.
///
/// Each returns what it did in words, or nil when the tree has no place for it (no list to drop an item from),
/// in which case the tree is unchanged.
struct TreeMutation {
    let random: FuzzRandom
    let corpus: FuzzCorpus

    func apply(_ mutation: MutationOperator, to tree: inout Node) -> String? {
        switch mutation {
        case .deleteKey: return deleteKey(&tree)
        case .duplicateKey: return duplicateKey(&tree)
        case .moveSubtree: return moveSubtree(&tree)
        case .swapSubtrees: return swapSubtrees(&tree)
        case .graftSubtree: return graftSubtree(&tree)
        case .replaceCollection: return replaceCollection(&tree)
        case .dropItem: return dropItem(&tree)
        case .duplicateItem: return duplicateItem(&tree)
        case .renameKey: return renameKey(&tree)
        case .retime: return retime(&tree)
        case .number, .duration, .rate, .scale, .plausible, .wrongType, .unknownName, .otherValue:
            return setValue(mutation, in: &tree)
        case .truncate, .junk, .tabIndent, .reindent, .lines: return nil
        }
    }

    // MARK: - Structure

    /// Mappings with at least one key.
    private func mappings(_ tree: Node) -> [TreeSite] {
        TreeSite.all(in: tree).filter { if case .mapping(let m) = $0.node { return m.count > 0 } else { return false } }
    }

    /// Lists with at least one item.
    private func lists(_ tree: Node) -> [TreeSite] {
        TreeSite.all(in: tree).filter {
            if case .sequence(let s) = $0.node { return s.count > 0 } else { return false }
        }
    }

    private func keyName(_ key: Node) -> String { key.scalar?.string ?? "?" }

    private func child(_ site: TreeSite, _ key: String) -> String {
        site.display.isEmpty ? "`\(key)`" : "`\(site.display).\(key)`"
    }

    private func deleteKey(_ tree: inout Node) -> String? {
        let candidates = mappings(tree)
        guard !candidates.isEmpty else { return nil }
        let site = random.pick(candidates)
        guard case .mapping(let mapping) = site.node else { return nil }
        var pairs = mapping.pairList
        let index = random.below(pairs.count)
        let key = keyName(pairs[index].0)
        pairs.remove(at: index)
        tree.update(at: site.path[...]) { $0 = .mapping(mapping.with(pairs)) }
        return "delete \(child(site, key))"
    }

    private func duplicateKey(_ tree: inout Node) -> String? {
        let candidates = mappings(tree)
        guard !candidates.isEmpty else { return nil }
        let site = random.pick(candidates)
        guard case .mapping(let mapping) = site.node else { return nil }
        var pairs = mapping.pairList
        let index = random.below(pairs.count)
        var copy = pairs[index]
        var how = "with the same value"
        if random.oneIn(2) {
            let other = random.pick(TreeSite.all(in: tree))
            copy.1 = other.node
            how = "with the value of \(other.described)"
        }
        let at = random.oneIn(2) ? index + 1 : pairs.count
        pairs.insert(copy, at: at)
        tree.update(at: site.path[...]) { $0 = .mapping(mapping.with(pairs)) }
        return "repeat key \(child(site, keyName(copy.0))) \(how)"
    }

    private func moveSubtree(_ tree: inout Node) -> String? {
        let sources = mappings(tree)
        guard !sources.isEmpty else { return nil }
        let site = random.pick(sources)
        guard case .mapping(let mapping) = site.node else { return nil }
        var pairs = mapping.pairList
        let moved = pairs.remove(at: random.below(pairs.count))
        tree.update(at: site.path[...]) { $0 = .mapping(mapping.with(pairs)) }
        let targets = TreeSite.all(in: tree).filter { if case .mapping = $0.node { return true } else { return false } }
        guard !targets.isEmpty else { return nil }
        let target = random.pick(targets)
        guard case .mapping(let destination) = target.node else { return nil }
        var into = destination.pairList
        into.insert(moved, at: random.below(into.count + 1))
        tree.update(at: target.path[...]) { $0 = .mapping(destination.with(into)) }
        return "move \(child(site, keyName(moved.0))) into \(target.described)"
    }

    private func swapSubtrees(_ tree: inout Node) -> String? {
        let sites = TreeSite.all(in: tree).filter { !$0.path.isEmpty }
        guard sites.count >= 2 else { return nil }
        let first = random.pick(sites)
        var others = sites.filter { !$0.isWithin(first) && !first.isWithin($0) }
        // Half the time, with a node under the same key (the `rate` of another workload): a valid exchange more
        // often than not, which gets runs to combinations the files do not have.
        let alike = others.filter { !first.lastKey.isEmpty && $0.lastKey == first.lastKey }
        if !alike.isEmpty && random.oneIn(2) { others = alike }
        guard !others.isEmpty else { return nil }
        let second = random.pick(others)
        tree.update(at: first.path[...]) { $0 = second.node }
        tree.update(at: second.path[...]) { $0 = first.node }
        return "swap \(first.described) and \(second.described)"
    }

    private func graftSubtree(_ tree: inout Node) -> String? {
        let targets = TreeSite.all(in: tree).filter { if case .mapping = $0.node { return true } else { return false } }
        guard !targets.isEmpty, !corpus.pairs.isEmpty else { return nil }
        // Two times in three, a key where such keys belong (a workload's `session` into a workload), replacing
        // the one there if any; otherwise anywhere.
        if !random.oneIn(3) {
            let shapes = Set(targets.map(\.shape))
            let fitting = corpus.pairs.filter { shapes.contains($0.parent) }
            if !fitting.isEmpty {
                let graft = random.pick(fitting)
                let target = random.pick(targets.filter { $0.shape == graft.parent })
                guard case .mapping(let destination) = target.node else { return nil }
                var pairs = destination.pairList
                let key = keyName(graft.key)
                if let existing = pairs.firstIndex(where: { keyName($0.0) == key }) {
                    pairs[existing].1 = graft.value
                } else {
                    pairs.insert((graft.key, graft.value), at: random.below(pairs.count + 1))
                }
                tree.update(at: target.path[...]) { $0 = .mapping(destination.with(pairs)) }
                return "graft \(child(target, key)) of \(graft.source)"
            }
        }
        let target = random.pick(targets)
        let graft = random.pick(corpus.pairs)
        guard case .mapping(let destination) = target.node else { return nil }
        var pairs = destination.pairList
        pairs.insert((graft.key, graft.value), at: random.below(pairs.count + 1))
        tree.update(at: target.path[...]) { $0 = .mapping(destination.with(pairs)) }
        return "graft `\(keyName(graft.key))` of \(graft.source) into \(target.described)"
    }

    private func replaceCollection(_ tree: inout Node) -> String? {
        let collections = TreeSite.all(in: tree).filter {
            switch $0.node {
            case .mapping, .sequence: return true
            case .scalar, .alias: return false
            }
        }
        guard !collections.isEmpty else { return nil }
        let site = random.pick(collections)
        let replacement: Node
        let how: String
        switch (site.node, random.below(3)) {
        case (.mapping(let mapping), 0):
            replacement = .sequence(Node.Sequence(Array(mapping.values)))
            how = "the list of its values"
        case (.mapping, 1):
            replacement = .sequence(Node.Sequence([site.node]))
            how = "a list holding it"
        case (.sequence(let sequence), 0):
            let pairs = sequence.enumerated().map { (Node(String($0.offset)), $0.element) }
            replacement = .mapping(Node.Mapping(pairs))
            how = "a mapping of its items"
        case (.sequence(let sequence), 1):
            replacement = sequence.first ?? Node("")
            how = "its first item"
        default:
            let scalar = TreeSite.all(in: site.node).first { $0.node.scalar != nil }?.node ?? Node("x")
            replacement = scalar
            how = "a scalar (\(scalar.scalar.map { "`\($0.string)`" } ?? "x"))"
        }
        tree.update(at: site.path[...]) { $0 = replacement }
        return "replace \(site.described) by \(how)"
    }

    private func dropItem(_ tree: inout Node) -> String? {
        let candidates = lists(tree)
        guard !candidates.isEmpty else { return nil }
        let site = random.pick(candidates)
        guard case .sequence(var sequence) = site.node else { return nil }
        let index = random.below(sequence.count)
        sequence.remove(at: index)
        tree.update(at: site.path[...]) { $0 = .sequence(sequence) }
        return "drop item \(index) of \(site.described)"
    }

    private func duplicateItem(_ tree: inout Node) -> String? {
        let candidates = lists(tree)
        guard !candidates.isEmpty else { return nil }
        let site = random.pick(candidates)
        guard case .sequence(var sequence) = site.node else { return nil }
        let index = random.below(sequence.count)
        sequence.insert(sequence[index], at: index + 1)
        tree.update(at: site.path[...]) { $0 = .sequence(sequence) }
        return "repeat item \(index) of \(site.described)"
    }

    private func renameKey(_ tree: inout Node) -> String? {
        let candidates = mappings(tree)
        guard !candidates.isEmpty else { return nil }
        let site = random.pick(candidates)
        guard case .mapping(var mapping) = site.node else { return nil }
        let index = random.below(mapping.count)
        let key = keyName(mapping[index].key)
        let renamed = NearMiss.of(key, random: random)
        mapping[index] = (key: Node(renamed), value: mapping[index].value)
        tree.update(at: site.path[...]) { $0 = .mapping(mapping) }
        return "rename \(child(site, key)) to `\(renamed)`"
    }

    // MARK: - Values

    /// Every duration of the document divided by one factor (`3m` to `1.8s` at 100): the whole scenario faster,
    /// so that what happens minutes in (a fault, a spike, an autoscaler's sync, a session's think time) happens
    /// within a short run.
    private func retime(_ tree: inout Node) -> String? {
        let factor = random.pick([10.0, 60, 100, 1000])
        var changed = 0
        for site in TreeSite.all(in: tree) {
            guard case .scalar(let scalar) = site.node, ValueKind.of(scalar.string) == .duration else { continue }
            let digits = scalar.string.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(digits) else { continue }
            let unit = scalar.string.dropFirst(digits.count)
            tree.update(at: site.path[...]) { $0 = Node(Self.decimal(value / factor, exponent: false) + unit) }
            changed += 1
        }
        return changed == 0 ? nil : "divide every duration (\(changed)) by \(Self.decimal(factor, exponent: false))"
    }

    /// Numbers at and beyond every edge: zero, negatives, fractions where integers go, the limits of 32- and
    /// 64-bit integers and of doubles, non-finite spellings, and the integer forms the loader refuses.
    static let numbers = [
        "0", "-0", "-1", "-7", "1", "2", "0.5", "1.5", "4.0", "1e-9", "1e-300", "5e-324", "1e9", "1e18", "1e19",
        "1e300", "1e308", "1.8e308", "1e400", "-1e400", "2147483647", "2147483648", "4294967296",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551615",
        "18446744073709551616", "1_000", "0x10", "0o17", "1e3", ".nan", ".NaN", "NaN", ".inf", "-.inf", "inf",
        "Infinity", "+5", "1.", ".5", "00012", "1e", "--1",
    ]

    /// Durations at the edges: zero forms, the smallest and largest, overflow, missing and wrong units.
    static let durations = [
        "0", "0s", "0ms", "1ns", "1us", "1ms", "1s", "10s", "1m", "1h", "100h", "10000h", "2562047h", "2562048h",
        "106751d", "9223372036854775807ns", "9223372036854775808ns", "9999999999999999999s", "1e3s", "-1s",
        "-0s", "1.5", "5", "0.0000000001ns", "0.5ns", "1.99999999999999999999s", "5 parsecs", "300/h", "10 m",
        "s", "5sec", "1d", ".5s", "5.s", "1e400s", "nan s", "infs", "1h30m", "PT1S",
    ]

    /// Rates at the edges: zero, tiny, the documented maximum and beyond, negatives, bad units.
    static let rates = [
        "0/s", "0/h", "1/s", "300/h", "1e-9/s", "0.001/h", "1e6/s", "1e8/s", "1e9/s", "1000000000/s",
        "1000000001/s", "1e10/s", "1e300/s", "1e400/s", "-5/s", "5", "5/d", "5 /s", "/s", "NaN/s", "inf/s",
        "5/parsec", "20/s/s", "2e-300/h", "5e-324/s",
    ]

    /// Multipliers for `scale`: the same value and unit, scaled.
    static let factors: [Double] = [0, -1, 0.5, 2, 3, 10, 100, 1000, 1e6, 1e9, 1e12, 1e-3, 1e-9]

    /// Scalars of the value sites: mapping values and list items.
    private func valueSites(_ tree: Node) -> [TreeSite] {
        TreeSite.all(in: tree).filter { !$0.path.isEmpty && $0.node.scalar != nil }
    }

    private func setValue(_ mutation: MutationOperator, in tree: inout Node) -> String? {
        let candidates = valueSites(tree)
        guard !candidates.isEmpty else { return nil }
        let site = random.pick(candidates)
        let old = site.node.scalar?.string ?? ""
        let replacement: Node
        switch mutation {
        case .number: replacement = Node(random.pick(Self.numbers))
        case .duration: replacement = Node(random.pick(Self.durations))
        case .rate: replacement = Node(random.pick(Self.rates))
        case .scale: replacement = Node(scaled(old))
        case .plausible: replacement = Node(plausible(old))
        case .wrongType: replacement = wrongType(old)
        case .unknownName:
            replacement = Node(
                random.oneIn(3)
                    ? random.pick(corpus.names)
                    : random.oneIn(3)
                        ? random.pick(["nonexistent", "H100", "gpu-pool", "default", "*", ""])
                        : NearMiss.of(old, random: random))
        case .otherValue: replacement = Node(random.pick(corpus.scalars))
        default: return nil
        }
        tree.update(at: site.path[...]) { $0 = replacement }
        return "set \(site.described) to \(Self.describe(replacement))"
    }

    /// `old` with its leading number scaled, keeping its unit (`72/s` to `72000000/s`); a number from the list
    /// when it has none.
    private func scaled(_ old: String) -> String {
        let digits = old.prefix { $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" || $0 == "e" || $0 == "E" }
        guard let value = Double(digits), !digits.isEmpty else { return random.pick(Self.numbers) }
        let unit = old.dropFirst(digits.count)
        let result = value * random.pick(Self.factors)
        return Self.decimal(result, exponent: random.oneIn(4)) + unit
    }

    /// Values of each kind that the loader accepts in many places, from one extreme to the other.
    static let plausibleValues: [ValueKind: [String]] = [
        .duration: [
            "0s", "1ns", "1us", "50us", "1ms", "10ms", "100ms", "1s", "5s", "30s", "1m", "10m", "1h", "24h", "1000h",
        ],
        .rate: [
            "0/s", "0.001/s", "0.1/s", "1/s", "10/s", "100/s", "1000/s", "1e4/s", "1e5/s", "1e6/s", "1e9/s", "1/h",
        ],
        .multiplier: ["0x", "0.5x", "1x", "3x", "100x", "1e6x"],
        .integer: ["0", "1", "2", "3", "7", "16", "100", "1000", "65536", "100000"],
        .number: ["0", "0.001", "0.1", "0.5", "0.99", "1", "1.5", "2", "10", "100", "1e6", "1e12"],
        .bandwidth: ["1bps", "1Kbps", "100Mbps", "1Gbps", "1Tbps"],
    ]

    /// Another value of the same kind as `old` (a duration for a duration), valid in many places; a boolean
    /// flips; a name becomes another known name.
    private func plausible(_ old: String) -> String {
        let kind = ValueKind.of(old)
        switch kind {
        case .boolean: return old.lowercased() == "true" ? "false" : "true"
        case .text: return random.pick(corpus.names)
        default: return random.pick(Self.plausibleValues[kind] ?? ["1"])
        }
    }

    /// A number as a plain decimal (`3600000000000`, `0.000000005`), or with an exponent.
    static func decimal(_ value: Double, exponent: Bool) -> String {
        if exponent || !value.isFinite { return "\(value)" }
        if value == value.rounded() && abs(value) < 1e30 { return String(format: "%.0f", value) }
        var text = String(format: "%.15f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// The value as something of another type: quoted, null, a boolean, a list, a mapping, long or odd text.
    private func wrongType(_ old: String) -> Node {
        switch random.below(11) {
        case 0: return .scalar(Node.Scalar(old, .implicit, .doubleQuoted))
        case 1: return .scalar(Node.Scalar("", .implicit, .doubleQuoted))
        case 2: return Node("~")
        case 3: return Node("null")
        case 4: return Node(random.pick(["true", "false", "yes", "no", "on", "off", "TRUE"]))
        case 5: return .sequence(Node.Sequence([Node(old), Node("1")]))
        case 6: return .mapping(Node.Mapping([(Node("value"), Node(old))]))
        case 7: return Node(String(repeating: old.isEmpty ? "a" : old, count: 400))
        case 8: return .scalar(Node.Scalar("\(old)\nsecond line", .implicit, .literal))
        case 9: return .sequence(Node.Sequence([]))
        default: return .mapping(Node.Mapping([]))
        }
    }

    /// A replacement value as it reads in a mutation's description.
    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            let text = scalar.string.count > 40 ? String(scalar.string.prefix(37)) + "..." : scalar.string
            let quoted = scalar.style == .doubleQuoted ? "\"\(text)\"" : text
            return "`\(quoted.replacingOccurrences(of: "\n", with: "\\n"))`"
        case .sequence(let sequence): return "a list of \(sequence.count)"
        case .mapping(let mapping): return "a mapping of \(mapping.count)"
        case .alias: return "an alias"
        }
    }
}

/// What a scalar looks like it is, for ``TreeMutation/plausible(_:)``.
enum ValueKind: Hashable {
    case duration, rate, multiplier, integer, number, boolean, bandwidth, text

    static func of(_ text: String) -> ValueKind {
        let lowered = text.lowercased()
        if lowered == "true" || lowered == "false" { return .boolean }
        if Int(text) != nil { return .integer }
        if Double(text) != nil { return .number }
        if text.hasSuffix("bps") { return .bandwidth }
        if text.hasSuffix("x"), Double(text.dropLast()) != nil { return .multiplier }
        if let slash = text.firstIndex(of: "/"), Double(text[..<slash]) != nil { return .rate }
        let digits = text.prefix { $0.isNumber || $0 == "." }
        if !digits.isEmpty, ["ns", "us", "ms", "s", "m", "h"].contains(String(text.dropFirst(digits.count))) {
            return .duration
        }
        return .text
    }
}

/// Names one slip away from a real one, as people mistype them.
enum NearMiss {
    static func of(_ word: String, random: FuzzRandom) -> String {
        var characters = Array(word)
        guard !characters.isEmpty else { return "x" }
        let at = random.below(characters.count)
        switch random.below(8) {
        case 0 where characters.count >= 2:
            let other = at == characters.count - 1 ? at - 1 : at + 1
            characters.swapAt(at, other)
        case 1 where characters.count >= 2: characters.remove(at: at)
        case 2: characters.insert(characters[at], at: at)
        case 3:
            if let dash = characters.firstIndex(of: "-") {
                characters[dash] = "_"
            } else if let upper = characters.firstIndex(where: \.isUppercase) {
                characters[upper] = Character(characters[upper].lowercased())
                characters.insert("-", at: upper)
            } else {
                characters.insert("_", at: at)
            }
        case 4: characters = Array(word.uppercased())
        case 5: characters.append("s")
        case 6: characters[at] = Character(random.pick(["x", "0", "-", ".", " ", "é"]))
        default: characters = Array(word.prefix(max(1, characters.count - 1)) + "x")
        }
        let result = String(characters)
        return result == word ? word + "x" : result
    }
}
