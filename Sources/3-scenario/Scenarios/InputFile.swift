package import Foundation

/// A file the user names on the command line or in a file of ours (step times, a benchmark result, a timing
/// profile), read with the errors every such file shares: missing, a directory, unreadable, not UTF-8.
package enum InputFile {
    /// The bytes at `path`; errors name the file as `written` and call it a `noun` ("no such timing profile").
    package static func data(path: String, written: String, noun: String = "file") throws(ScenarioError) -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            let looked = path == written ? "" : " (looked for \(path))"
            throw ScenarioError(
                kind: .fileNotFound, file: written, line: nil, column: nil, path: "",
                message: "no such \(noun)\(looked)")
        }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
            throw ScenarioError(
                kind: .unreadable, file: written, line: nil, column: nil, path: "",
                message: isDirectory.boolValue ? "expected a file, found a directory" : "the \(noun) could not be read")
        }
        return data
    }

    /// `data` as text, or an error naming the file as `written` if it is not UTF-8.
    package static func text(_ data: Data, written: String) throws(ScenarioError) -> String {
        let text = String(decoding: data, as: UTF8.self)
        guard text.utf8.elementsEqual(data) else {
            throw ScenarioError(
                kind: .unreadable, file: written, line: nil, column: nil, path: "", message: "expected UTF-8 text")
        }
        return text
    }

    /// The text at `path`.
    package static func text(path: String, written: String, noun: String = "file") throws(ScenarioError) -> String {
        try text(data(path: path, written: written, noun: noun), written: written)
    }
}
