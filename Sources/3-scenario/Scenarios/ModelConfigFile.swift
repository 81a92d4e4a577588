import Fleet
package import Foundation

/// A Hugging Face `config.json` on disk, read into a model (`model: {config: PATH}` in a pool's `gpu` block, and
/// `infermesh timing --model-config PATH`).
public enum ModelConfigFile {
    /// Why a config file could not be read, located in it as well as we can.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The file is missing (as opposed to unreadable or invalid).
        public var missing: Bool
        /// `file:line:column: ` when the place in the file is known, else `file: `; then the key and the message.
        public var message: String

        public var description: String { message }
    }

    /// The model `path` describes, named after the file (`models/my-model.json` is `my-model`; a file named
    /// `config.json` takes its directory's name, as in a downloaded Hugging Face repository). `written` is the path as
    /// the user wrote it, for messages.
    public static func load(path: String, written: String) throws(Failure) -> LLMSpec {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw Failure(
                missing: !isDirectory.boolValue,
                message: isDirectory.boolValue
                    ? "expected a config.json file, found the directory `\(path)`"
                    : "no model config file `\(written)` (looked for \(path))")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(missing: false, message: "the file `\(written)` could not be read")
        }
        return try decode(data, path: path, written: written)
    }

    /// The model the bytes of the config file at `path` describe (see ``load(path:written:)``); for a caller that
    /// has read the file already.
    static func decode(_ data: Data, path: String, written: String) throws(Failure) -> LLMSpec {
        let text = String(decoding: data, as: UTF8.self)
        let config: HuggingFaceConfig
        do {
            config = try JSONDecoder().decode(HuggingFaceConfig.self, from: data)
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                throw Failure(missing: false, message: syntaxError(written, data: data, text: text))
            }
            let (key, message) = describe(error)
            throw Failure(missing: false, message: located(written, text: text, key: key) + message)
        } catch {
            throw Failure(missing: false, message: "\(written): not a JSON object: \(error)")
        }
        do {
            return try LLMSpec(huggingFace: config, name: modelName(path))
        } catch {
            let at = error.key.isEmpty ? "" : "`\(error.key)`: "
            throw Failure(missing: false, message: located(written, text: text, key: error.key) + at + error.message)
        }
    }

    /// The file's base name without `.json`, or its directory's name for a `config.json`.
    static func modelName(_ path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let base = url.deletingPathExtension().lastPathComponent
        guard base == "config" else { return base }
        let directory = url.deletingLastPathComponent().lastPathComponent
        return directory.isEmpty || directory == "/" ? base : directory
    }

    /// The key path and message of a decoding error: `hidden_size` "expected an integer", or the JSON's syntax error.
    static func describe(_ error: DecodingError) -> (key: String, message: String) {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.reduce("") { path, key in
                if let index = key.intValue { return path + "[\(index)]" }
                return path.isEmpty ? key.stringValue : path + "." + key.stringValue
            }
        }
        switch error {
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let key = path(context.codingPath)
            let expected: String
            switch type {
            case is Int.Type: expected = "an integer"
            case is Bool.Type: expected = "true or false"
            case is String.Type: expected = "a string"
            case is [String].Type, is [Int].Type: expected = "a list"
            default: expected = "a JSON object"
            }
            return (key, (key.isEmpty ? "" : "`\(key)`: ") + "expected \(expected)")
        case .dataCorrupted(let context):
            let key = path(context.codingPath)
            var message = context.debugDescription
            if let underlying = context.underlyingError { message += " (\(underlying.localizedDescription))" }
            return (key, (key.isEmpty ? "not valid JSON: " : "`\(key)`: ") + message)
        case .keyNotFound(let key, let context):
            let location = path(context.codingPath + [key])
            return (location, "`\(location)`: missing")
        @unknown default:
            return ("", "\(error)")
        }
    }

    /// Where the JSON stops being JSON: Foundation's parser names the byte offset ("Invalid value around character
    /// 9."), which becomes `file:line:column: not valid JSON: ...`.
    package static func syntaxError(_ file: String, data: Data, text: String) -> String {
        var reason = "The given data was not valid JSON."
        do {
            _ = try JSONSerialization.jsonObject(with: data)
        } catch {
            reason = (error as NSError).userInfo["NSDebugDescription"] as? String ?? reason
        }
        guard let range = reason.range(of: #"character \d+"#, options: .regularExpression),
            let offset = Int(reason[range].dropFirst("character ".count)), offset <= data.count
        else { return "\(file): not valid JSON: \(reason)" }
        let before = String(decoding: data.prefix(offset), as: UTF8.self)
        let line = before.filter(\.isNewline).count + 1
        let column =
            (before.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).last ?? "")
            .unicodeScalars.count + 1
        return "\(file):\(line):\(column): not valid JSON: \(reason)"
    }

    /// `file:line:column: ` for the first character of `"key":` when the key's last component occurs exactly once
    /// as a key in the text (so the place is certain), else `file: `.
    package static func located(_ file: String, text: String, key: String) -> String {
        let last = key.split(separator: ".").last.map { String($0.split(separator: "[")[0]) } ?? ""
        guard !last.isEmpty else { return "\(file): " }
        let pattern = "\"" + NSRegularExpression.escapedPattern(for: last) + "\"\\s*:"
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return "\(file): " }
        let whole = NSRange(text.startIndex..., in: text)
        let matches = expression.matches(in: text, range: whole)
        guard matches.count == 1, let range = Range(matches[0].range, in: text) else { return "\(file): " }
        let before = text[..<range.lowerBound]
        let line = before.filter(\.isNewline).count + 1
        let lineStart = before.lastIndex(where: \.isNewline).map { text.index(after: $0) } ?? text.startIndex
        let column = text.unicodeScalars[lineStart..<range.lowerBound].count + 1
        return "\(file):\(line):\(column): "
    }
}

extension NodeReader {
    /// `model: {config: PATH}`: a Hugging Face `config.json`, relative to the scenario's directory. A missing file
    /// is reported at `config` as missing (exit 66); a config that cannot be read, or describes no model we can time,
    /// at `config`, naming the file's line, column and key.
    func modelConfig() throws(ScenarioError) -> LLMSpec {
        let fields = try mapping(
            keys: ScenarioKeys.modelConfig, what: "a model name like Llama-3-8B, or {config: models/my-model.json}")
        let pathReader = try fields.required(
            "config", expecting: "a Hugging Face config.json, relative to the scenario's directory")
        let written = try pathReader.string("a file path")
        guard !written.isEmpty else { throw pathReader.expected("a file path") }
        let file = try pathReader.readNamedFile(written, noun: "model config file")
        do {
            return try ModelConfigFile.decode(file.data, path: file.path, written: written)
        } catch {
            throw pathReader.error(error.message)
        }
    }
}
