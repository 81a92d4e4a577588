import Foundation
import Scenarios
import Yams

/// The scenario files mutants are made from: every `*.yaml` directly in one folder that is a scenario, in name
/// order.
///
/// Sweep files (a top-level `grid`, wherever they are) and sub-folders are not read. A sweep file is not a
/// scenario: its keys are `scenario`, `grid` and `plan`, `Sweep` loads it, and `infermesh validate` refuses it,
/// so its mutants would only meet the loader's first check; the scenario it names is in the corpus. In
/// `scenarios/` the sub-folders hold trace data (`traces/`) and more sweep files (`sweeps/`).
public struct FuzzCorpus {
    /// One scenario file: its text as written and its YAML tree.
    public struct Source {
        /// The file's name within the corpus folder, such as `quickstart.yaml`.
        public let name: String
        /// The file's text.
        public let text: String
        let root: Node
    }

    /// The folder the files came from; relative paths inside them (trace files) resolve from it.
    public let directory: String
    /// The files, in name order.
    public let sources: [Source]
    /// The sweep files left out, in name order.
    public let sweepFiles: [String]
    /// Every scalar value of every file (not keys), each once, in file and document order: values of the
    /// wrong type or field, but realistic ones.
    let scalars: [String]
    /// Every key of every mapping of every file with its value, in file and document order: subtrees to graft.
    /// `parent` is the mapping's path with list indices left out (`workloads[].arrival`), to graft a key where
    /// such keys belong.
    let pairs: [(source: String, parent: String, key: Node, value: Node)]
    /// Names the scenarios and the registries use: of policies, plugins, replica kinds, arrival processes,
    /// GPUs and models, and of the corpus's pools, workloads and clusters.
    let names: [String]

    /// Reads every `*.yaml` file directly in `directory`.
    public static func load(directory: String) throws -> FuzzCorpus {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".yaml") }
            .sorted()
        var sources: [Source] = []
        var sweepFiles: [String] = []
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            let text = try String(contentsOfFile: path, encoding: .utf8)
            guard let root = try Yams.compose(yaml: text) else { continue }
            if root.mapping?["grid"] != nil {
                sweepFiles.append(name)
                continue
            }
            sources.append(Source(name: name, text: text, root: root))
        }
        guard !sources.isEmpty else { throw CorpusError(message: "no *.yaml scenario files in \(directory)") }
        return FuzzCorpus(directory: directory, sources: sources, sweepFiles: sweepFiles)
    }

    init(directory: String, sources: [Source], sweepFiles: [String] = []) {
        self.directory = directory
        self.sources = sources
        self.sweepFiles = sweepFiles
        var scalars: [String] = []
        var seen: Set<String> = []
        var pairs: [(String, String, Node, Node)] = []
        var names =
            PolicyRegistry.names + PluginRegistry.types.map(\.name) + ReplicaSpec.kindNames
            + ArrivalProcess.names + GPUSpec.builtIns.map(\.name) + LLMSpec.builtIns.map(\.name)
        for source in sources {
            for site in TreeSite.all(in: source.root) {
                if case .scalar(let scalar) = site.node, !site.path.isEmpty, seen.insert(scalar.string).inserted {
                    scalars.append(scalar.string)
                    if site.display.hasSuffix(".name") { names.append(scalar.string) }
                }
                if case .mapping(let mapping) = site.node {
                    for pair in mapping { pairs.append((source.name, site.shape, pair.key, pair.value)) }
                }
            }
        }
        self.scalars = scalars
        self.pairs = pairs
        var unique: Set<String> = []
        self.names = names.filter { unique.insert($0).inserted }
    }
}

/// The corpus folder could not be read as scenarios.
public struct CorpusError: Error, CustomStringConvertible {
    /// What is wrong with the folder.
    public let message: String
    /// The message.
    public var description: String { message }
}

/// One step from a YAML node to a child: the value of a mapping's pair, or a sequence's item, by position.
enum TreeStep: Hashable {
    case value(Int)
    case item(Int)
}

/// A node of a document with its place: the steps from the root, and the path as the loader writes it
/// (`pools[0].gpu.hardware`), for describing mutations.
struct TreeSite {
    let path: [TreeStep]
    let display: String
    let node: Node

    /// Every node of the tree rooted at `root`, in document order (pre-order), the root first.
    static func all(in root: Node) -> [TreeSite] {
        var sites: [TreeSite] = []
        func visit(_ node: Node, _ path: [TreeStep], _ display: String) {
            sites.append(TreeSite(path: path, display: display, node: node))
            switch node {
            case .mapping(let mapping):
                for (index, pair) in mapping.enumerated() {
                    let key = pair.key.scalar?.string ?? "?"
                    visit(pair.value, path + [.value(index)], display.isEmpty ? key : "\(display).\(key)")
                }
            case .sequence(let sequence):
                for (index, item) in sequence.enumerated() {
                    visit(item, path + [.item(index)], "\(display)[\(index)]")
                }
            case .scalar, .alias: break
            }
        }
        visit(root, [], "")
        return sites
    }

    /// The path with list indices left out (`workloads[].arrival`): where in a scenario the node sits.
    var shape: String {
        var result = ""
        var inIndex = false
        for character in display {
            if character == "[" {
                inIndex = true
                result.append("[]")
            } else if character == "]" {
                inIndex = false
            } else if !inIndex {
                result.append(character)
            }
        }
        return result
    }

    /// The last key of the path (`rate` for `workloads[1].rate`), empty for list items and the root.
    var lastKey: String {
        guard !display.hasSuffix("]") else { return "" }
        return String(display.split(separator: ".").last ?? "")
    }

    /// Whether this site is `other` or inside it.
    func isWithin(_ other: TreeSite) -> Bool { path.starts(with: other.path) }

    /// How the site reads in a mutation's description.
    var described: String { display.isEmpty ? "the document" : "`\(display)`" }
}

extension Node {
    /// The node at `path` below this one, if it exists.
    func node(at path: ArraySlice<TreeStep>) -> Node? {
        guard let step = path.first else { return self }
        switch (step, self) {
        case (.value(let index), .mapping(let mapping)) where index < mapping.count:
            return mapping[index].value.node(at: path.dropFirst())
        case (.item(let index), .sequence(let sequence)) where index < sequence.count:
            return sequence[index].node(at: path.dropFirst())
        default:
            return nil
        }
    }

    /// Changes the node at `path` below this one with `body`; nothing happens if there is no such node.
    mutating func update(at path: ArraySlice<TreeStep>, _ body: (inout Node) -> Void) {
        guard let step = path.first else { return body(&self) }
        switch (step, self) {
        case (.value(let index), .mapping(var mapping)) where index < mapping.count:
            var value = mapping[index].value
            value.update(at: path.dropFirst(), body)
            mapping[index] = (key: mapping[index].key, value: value)
            self = .mapping(mapping)
        case (.item(let index), .sequence(var sequence)) where index < sequence.count:
            sequence[index].update(at: path.dropFirst(), body)
            self = .sequence(sequence)
        default:
            return
        }
    }
}

extension Node.Mapping {
    /// The pairs as an array, to insert or remove some.
    var pairList: [(Node, Node)] { map { ($0.key, $0.value) } }

    /// The same mapping (tag, style) with other pairs.
    func with(_ pairs: [(Node, Node)]) -> Node.Mapping { Node.Mapping(pairs, tag, style) }
}
