import OrderedCollections
import Yams

/// A YAML mapping checked against the keys it may have: every key is a known, unique string.
///
/// Checking happens on creation, in document order, so the first unknown or repeated key is what gets reported,
/// before any missing key.
struct MappingReader {
    /// The mapping itself (for errors about the whole mapping, such as a missing key).
    let reader: NodeReader
    /// Values by key, in document order.
    let entries: OrderedDictionary<String, NodeReader>
    /// The key nodes, for errors about a key itself.
    private let keyReaders: [String: NodeReader]

    /// Reads `reader` as a mapping with keys among `known`. `subject` ("an exponential distribution") names the
    /// mapping in unknown-key errors when the key set depends on its content.
    init(_ reader: NodeReader, keys known: [String], what: String, subject: String? = nil) throws(ScenarioError) {
        guard case .mapping(let mapping) = reader.node else { throw reader.expected(what) }
        self.reader = reader
        var entries = OrderedDictionary<String, NodeReader>()
        var keyReaders: [String: NodeReader] = [:]
        for (keyNode, valueNode) in mapping {
            let bare = NodeReader(node: keyNode, path: reader.path, context: reader.context)
            guard keyNode.scalar != nil, !bare.isNull else { throw bare.expected("a key name") }
            let key = bare.position.flatMap { reader.context.renamedKeys[$0] } ?? bare.scalarText ?? ""
            let keyReader = reader.child(keyNode, key: key)
            if let earlier = keyReaders[key] {
                let first = earlier.position.map { " (first at \($0.line):\($0.column))" } ?? ""
                throw keyReader.error("duplicate key `\(key)`\(first); keys must be unique")
            }
            keyReaders[key] = keyReader
            entries[key] = reader.child(valueNode, key: key)
        }
        self.entries = entries
        self.keyReaders = keyReaders
        try restrict(to: known, subject: subject)
    }

    /// Checks that every key present is among `known`, in document order.
    func restrict(to known: [String], subject: String?) throws(ScenarioError) {
        for key in entries.keys where !known.contains(key) {
            let of = subject.map { " for \($0)" } ?? ""
            throw (keyReaders[key] ?? reader).error(
                "unknown key `\(key)`\(of)" + Suggestions.hint(for: key, among: known))
        }
    }

    /// The value at `key`, if present.
    subscript(key: String) -> NodeReader? { entries[key] }

    /// The key node of `key`, if present (for errors about the key rather than its value).
    func keyReader(_ key: String) -> NodeReader? { keyReaders[key] }

    /// The value at `key`, or an error at this mapping saying it is missing and what it should be.
    func required(_ key: String, expecting what: String) throws(ScenarioError) -> NodeReader {
        guard let value = entries[key] else { throw reader.error("missing required key `\(key)` (\(what))") }
        return value
    }
}
