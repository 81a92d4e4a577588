/// A minimal SVG writer: elements with attributes, nesting and escaped text. Numbers are written with at most
/// two decimals and no locale, so the same data always gives the same bytes.
struct SVGDocument {
    let width: Int
    let height: Int
    private var lines: [String] = []
    private var depth = 1

    init(width: Int, height: Int, title: String) {
        self.width = width
        self.height = height
        add("title", [], text: title)
        add("rect", [("width", "\(width)"), ("height", "\(height)"), ("fill", "white")])
    }

    /// Adds a leaf element, with `text` as its escaped content if given.
    mutating func add(_ name: String, _ attributes: [(String, String)], text: String? = nil) {
        let start = "<" + name + Self.render(attributes)
        lines.append(indent + (text.map { start + ">" + Self.escape($0) + "</\(name)>" } ?? start + "/>"))
    }

    /// Opens a group (`g`) with `attributes`; close it with `close()`.
    mutating func open(_ attributes: [(String, String)]) {
        lines.append(indent + "<g" + Self.render(attributes) + ">")
        depth += 1
    }

    /// Closes the innermost open group.
    mutating func close() {
        depth -= 1
        lines.append(indent + "</g>")
    }

    /// The whole document.
    func render() -> String {
        precondition(depth == 1, "unclosed group")
        let header = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(width)" height="\(height)" \
            viewBox="0 0 \(width) \(height)" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">

            """
        return header + lines.joined(separator: "\n") + "\n</svg>\n"
    }

    private var indent: String { String(repeating: "  ", count: depth) }

    private static func render(_ attributes: [(String, String)]) -> String {
        attributes.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
    }

    /// `text` with XML's five special characters escaped.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// `value` rounded to two decimals, trailing zeros dropped: `12`, `12.5`, `-0.25`.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let hundredths = Int64((value * 100).rounded())
        let sign = hundredths < 0 ? "-" : ""
        let magnitude = hundredths.magnitude
        let whole = magnitude / 100, fraction = magnitude % 100
        if fraction == 0 { return sign + String(whole) }
        if fraction % 10 == 0 { return sign + "\(whole).\(fraction / 10)" }
        return sign + "\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// A polyline's `points` attribute.
    static func points(_ points: [(x: Double, y: Double)]) -> String {
        points.map { number($0.x) + "," + number($0.y) }.joined(separator: " ")
    }
}
