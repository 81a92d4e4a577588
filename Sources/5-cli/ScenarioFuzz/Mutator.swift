import SimKernel
import Yams

/// One mutated scenario: which file it came from, what was done to it, and its text.
public struct Mutant: Sendable, Equatable {
    /// Its number in the campaign; with the seed, it determines the mutant.
    public let index: Int
    /// The corpus file it was made from.
    public let source: String
    /// The operators applied, in order (``MutationOperator`` raw values).
    public let operators: [String]
    /// What each operator did, in words (`set \`pools[0].replicas\` to \`-1\``).
    public let mutations: [String]
    /// The mutated text.
    public let text: String

    /// A mutant from its parts (``Mutator`` makes them; a replay makes one from a file).
    public init(index: Int, source: String, operators: [String], mutations: [String], text: String) {
        self.index = index
        self.source = source
        self.operators = operators
        self.mutations = mutations
        self.text = text
    }

    /// The name it has in errors and as a failure file: `seed-42-mutant-00123.yaml`.
    public func fileName(seed: UInt64) -> String {
        let number = String(index)
        return "seed-\(seed)-mutant-\(String(repeating: "0", count: max(0, 5 - number.count)))\(number).yaml"
    }
}

/// What a mutation does: to the YAML tree (structure or a value) or to the text.
public enum MutationOperator: String, CaseIterable, Sendable {
    // Structure, on the tree.
    case deleteKey = "delete-key"
    case duplicateKey = "duplicate-key"
    case moveSubtree = "move-subtree"
    case swapSubtrees = "swap-subtrees"
    case graftSubtree = "graft-subtree"
    case replaceCollection = "replace-collection"
    case dropItem = "drop-item"
    case duplicateItem = "duplicate-item"
    case renameKey = "rename-key"
    // Values, on one scalar of the tree.
    case number = "number"
    case duration = "duration"
    case rate = "rate"
    case scale = "scale"
    case plausible = "plausible"
    case retime = "retime"
    case wrongType = "wrong-type"
    case unknownName = "unknown-name"
    case otherValue = "other-value"
    // The text, after the tree is written out.
    case truncate = "truncate"
    case junk = "junk"
    case tabIndent = "tab-indent"
    case reindent = "reindent"
    case lines = "lines"

    var isText: Bool { [.truncate, .junk, .tabIndent, .reindent, .lines].contains(self) }

    /// How often each is drawn, out of the sum: values 53%, structure 31%, text 16%.
    var weight: Int {
        switch self {
        case .deleteKey, .duplicateKey, .moveSubtree, .swapSubtrees, .graftSubtree, .replaceCollection, .dropItem,
            .duplicateItem, .renameKey:
            return 4
        case .number, .duration, .rate, .wrongType, .unknownName, .otherValue, .retime: return 6
        case .scale, .plausible: return 12
        case .truncate, .junk, .tabIndent, .reindent, .lines: return 4
        }
    }
}

/// Makes mutants of a corpus, each from its own named random stream (`fuzz/mutant/<index>` of the seed), so a
/// mutant depends only on the corpus, the seed and its index: the same seed gives the same mutants, in any order
/// and in any process.
public struct Mutator {
    /// The files mutants are made from.
    public let corpus: FuzzCorpus
    /// The seed every mutant's stream derives from.
    public let seed: UInt64

    /// A mutator of `corpus` under `seed`.
    public init(corpus: FuzzCorpus, seed: UInt64) {
        self.corpus = corpus
        self.seed = seed
    }

    /// Mutant `index`: a file of the corpus in turn (index modulo the corpus size), with one to five mutations.
    public func mutant(_ index: Int) -> Mutant {
        let random = FuzzRandom(RandomStream(name: "fuzz/mutant/\(index)", runSeed: seed))
        let source = corpus.sources[index % corpus.sources.count]
        var tree = source.root
        var operators: [String] = []
        var mutations: [String] = []
        var textOperators: [MutationOperator] = []
        let count = random.weighted([(1, 60), (2, 25), (3, 10), (5, 5)])
        let all = MutationOperator.allCases
        for _ in 0..<count {
            let chosen = all[random.weighted(all.enumerated().map { ($0.offset, $0.element.weight) })]
            if chosen.isText {
                textOperators.append(chosen)
            } else if let done = TreeMutation(random: random, corpus: corpus).apply(chosen, to: &tree) {
                operators.append(chosen.rawValue)
                mutations.append(done)
            }
        }
        var text = source.text
        if !operators.isEmpty {
            do {
                text = try Yams.serialize(node: tree, allowUnicode: true)
            } catch {
                // Not expected; the mutant is then the text mutations of the original alone.
                mutations.append("(the mutated tree could not be written: \(error))")
            }
        }
        for chosen in textOperators {
            let (mutated, done) = TextMutation(random: random).apply(chosen, to: text)
            text = mutated
            operators.append(chosen.rawValue)
            mutations.append(done)
        }
        return Mutant(index: index, source: source.name, operators: operators, mutations: mutations, text: text)
    }
}

/// Draws from one named stream.
final class FuzzRandom {
    let stream: RandomStream

    init(_ stream: RandomStream) { self.stream = stream }

    /// A uniform integer in 0..<n.
    func below(_ n: Int) -> Int { stream.integer(below: n) }

    /// True with probability 1/n.
    func oneIn(_ n: Int) -> Bool { below(n) == 0 }

    /// A uniform element of a non-empty array.
    func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// A value drawn with the given integer weights (at least one positive).
    func weighted<T>(_ choices: [(T, Int)]) -> T {
        var draw = below(choices.reduce(0) { $0 + $1.1 })
        for (value, weight) in choices {
            if draw < weight { return value }
            draw -= weight
        }
        return choices[choices.count - 1].0
    }
}
