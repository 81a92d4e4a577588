/// A minimal SVG writer: elements with attributes, nesting and escaped text. Numbers are written with at most
/// two decimals and no locale, so the same data always gives the same bytes.
struct SVGDocument {
    let width: Int
    let height: Int
    /// What it shows, in its `<title>` (and `aria-label` inline).
    let title: String
    private var lines: [String] = []
    private var depth = 1

    init(width: Int, height: Int, title: String) {
        self.width = width
        self.height = height
        self.title = title
        add("title", [], text: title)
        add("rect", [("width", "\(width)"), ("height", "\(height)"), ("fill", "white")])
    }

    /// Adds a leaf element, with `text` as its escaped content if given.
    mutating func add(_ name: String, _ attributes: [(String, String)], text: String? = nil) {
        let start = "<" + name + Self.render(attributes)
        lines.append(indent + (text.map { start + ">" + Markup.escape($0) + "</\(name)>" } ?? start + "/>"))
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

    /// Where the drawing goes: its own `.svg` file, or inside an HTML page.
    enum Embedding {
        /// A file of its own: the XML declaration and namespace, and a fixed size in pixels.
        case standalone
        /// An `<svg>` element of an HTML page: no declaration, no namespace (HTML's parser supplies it, and the
        /// page then names no URL at all), and the page's width, with the height following from the viewBox.
        case inline
    }

    /// The whole document.
    func render(_ embedding: Embedding = .standalone) -> String {
        precondition(depth == 1, "unclosed group")
        let fonts = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\""
        let header: String
        switch embedding {
        case .standalone:
            header = """
                <?xml version="1.0" encoding="UTF-8"?>
                <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(width)" height="\(height)" \
                viewBox="0 0 \(width) \(height)" \(fonts)>

                """
        case .inline:
            header = """
                <svg viewBox="0 0 \(width) \(height)" width="100%" role="img" aria-label="\(Markup.escape(title))" \
                \(fonts)>

                """
        }
        return header + lines.joined(separator: "\n") + "\n</svg>\n"
    }

    private var indent: String { String(repeating: "  ", count: depth) }

    private static func render(_ attributes: [(String, String)]) -> String {
        attributes.map { " \($0.0)=\"\(Markup.escape($0.1))\"" }.joined()
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

/// Text in XML and HTML markup.
enum Markup {
    /// `text` with XML's five special characters escaped, which is also enough for HTML's text and quoted
    /// attribute values.
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
}
