/// "Did you mean" hints for misspelled keys and names.
public enum Suggestions {
    /// The candidate `word` most likely meant, if any is close enough.
    ///
    /// Close enough is: the same after folding case and `_`/space to `-` (`max_queue` for `max-queue`), or
    /// within edit distance 2 (a swap of neighbours counts as one edit). Two edits are allowed only between
    /// words of five letters or more: in short words they change too much (`foo` is not a typo of `slo`, nor
    /// `mu` of `cv`). Ties go to the first candidate, so the hint is deterministic.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let folded = fold(word)
        if let exact = candidates.first(where: { fold($0) == folded }), exact != word { return exact }
        let source = Array(folded.unicodeScalars)
        var best: (name: String, distance: Int)?
        for candidate in candidates where candidate != word {
            let target = Array(fold(candidate).unicodeScalars)
            guard abs(source.count - target.count) <= 2 else { continue }
            let distance = editDistance(source, target)
            let closeEnough = distance == 1 || (distance == 2 && max(source.count, target.count) >= 5)
            if closeEnough, distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.name
    }

    /// "; did you mean `X`?" or "; expected one of: a, b, c".
    public static func hint(for word: String, among candidates: [String]) -> String {
        if let suggestion = closest(to: word, among: candidates) { return "; did you mean `\(suggestion)`?" }
        return "; expected one of: \(candidates.joined(separator: ", "))"
    }

    private static func fold(_ text: String) -> String {
        String(text.lowercased().map { $0 == "_" || $0 == " " ? "-" : $0 })
    }

    /// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of neighbours cost 1.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        let width = b.count + 1
        // Three rows: two back (for swaps), previous, current.
        var twoBack = Array(repeating: 0, count: width)
        var previous = Array(0...b.count)
        var current = Array(repeating: 0, count: width)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var best = min(previous[j - 1] + cost, previous[j] + 1, current[j - 1] + 1)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { best = min(best, twoBack[j - 2] + 1) }
                current[j] = best
            }
            (twoBack, previous, current) = (previous, current, twoBack)
        }
        return previous[b.count]
    }
}
