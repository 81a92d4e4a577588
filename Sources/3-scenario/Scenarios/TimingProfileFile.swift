import Fleet
import Foundation
import Yams

/// A ``TimingProfile`` as a YAML file: written by `infermesh calibrate`, read by scenarios
/// (`timing: {profile: FILE}`) and `infermesh timing --profile FILE`.
public enum TimingProfileFile {
    /// The top-level keys, in the order they are written.
    static let keys = ["profile", "written-by", "setup", "parameters", "fitted", "held", "inputs", "fit"]
    static let setupKeys = [
        "hardware", "model", "tensor-parallel-size", "quantization", "kv-cache-dtype", "enable-expert-parallel",
    ]

    /// Reads the profile at `path`; errors name the file as `written` and locate the line, column and key in it.
    public static func read(path: String, written: String) throws(ScenarioError) -> TimingProfile {
        try decode(InputFile.data(path: path, written: written, noun: "timing profile"), written: written)
    }

    /// The profile in `data`, the bytes of the file the user wrote as `written` (for a caller that read it).
    static func decode(_ data: Data, written: String) throws(ScenarioError) -> TimingProfile {
        try parse(InputFile.text(data, written: written), file: written)
    }

    /// Parses profile text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(ScenarioError) -> TimingProfile {
        let top = try YamlDocument.topMapping(
            text, file: file, keys: keys,
            what:
                "a timing profile written by `infermesh calibrate`: a mapping with `profile`, `setup` and `parameters`")
        let version = try top.required("profile", expecting: "the format version, 1").integer(in: 1...1_000)
        guard version == TimingProfile.formatVersion else {
            throw top["profile"]!.error(
                "format version \(version) is newer than this infermesh reads (\(TimingProfile.formatVersion))")
        }
        let setup = try self.setup(try top.required("setup", expecting: "the GPU, model and parallelism"))
        var factors = RooflineTiming.Factors.defaults
        let parameters = try top.required("parameters", expecting: "the fitted factors").mapping(
            keys: TimingProfile.Parameter.allCases.map(\.rawValue), what: "a mapping of parameters")
        for parameter in TimingProfile.Parameter.allCases {
            guard let reader = parameters[parameter.rawValue] else { continue }
            let value = try reader.number(parameter.isEfficiency ? .positive : .nonNegative)
            if parameter.isEfficiency, value > 2 {
                throw reader.expected("a fraction of the datasheet peak, at most 2")
            }
            parameter.set(value, in: &factors)
        }
        func parameterList(_ key: String) throws(ScenarioError) -> [TimingProfile.Parameter] {
            guard let reader = top[key] else { return [] }
            var list: [TimingProfile.Parameter] = []
            for item in try reader.sequence(nonEmpty: false, of: "parameter names") {
                list.append(try item.choice("parameter"))
            }
            return list
        }
        let fitted = try parameterList("fitted")
        var held: [(parameter: TimingProfile.Parameter, reason: String)] = []
        if let heldReader = top["held"] {
            let mapping = try heldReader.mapping(
                keys: TimingProfile.Parameter.allCases.map(\.rawValue), what: "a mapping of parameter to reason")
            for parameter in TimingProfile.Parameter.allCases {
                if let reason = mapping[parameter.rawValue] { held.append((parameter, try reason.string("a reason"))) }
            }
        }
        var inputs: [TimingProfile.Input] = []
        if let inputsReader = top["inputs"] {
            for item in try inputsReader.sequence(nonEmpty: false, of: "input files") {
                let fields = try item.mapping(keys: ["file", "kind", "sha256"], what: "an input: file, kind, sha256")
                inputs.append(
                    TimingProfile.Input(
                        file: try fields.required("file", expecting: "a path").string("a path"),
                        kind: try fields.required("kind", expecting: "the input's kind").choice("input kind"),
                        sha256: try fields.required("sha256", expecting: "the file's SHA-256").string("hex digits")))
            }
        }
        var points: [TimingProfile.Point] = []
        var unit = "point"
        if let fitReader = top["fit"] {
            let fit = try fitReader.mapping(
                keys: ["error", "leave-one-out", "points"], what: "the fit: error, leave-one-out, points")
            if let looReader = fit["leave-one-out"] {
                let loo = try looReader.mapping(keys: ["leaves-out", "mean", "worst"], what: "leave-one-out errors")
                unit = try loo["leaves-out"]?.string("point or file") ?? unit
            }
            for item in try fit["points"]?.sequence(nonEmpty: false, of: "fit points") ?? [] {
                let fields = try item.mapping(
                    keys: ["input", "what", "measured", "predicted", "error", "held-out", "held-out-error"],
                    what: "a fit point")
                points.append(
                    TimingProfile.Point(
                        input: try fields.required("input", expecting: "a file").string(),
                        what: try fields.required("what", expecting: "what was measured").string(),
                        measured: try fields.required("measured", expecting: "a number").number(.positive),
                        predicted: try fields.required("predicted", expecting: "a number").number(.nonNegative),
                        heldOut: try fields["held-out"]?.number(.nonNegative)))
            }
        }
        return TimingProfile(
            setup: setup, factors: factors, fitted: fitted, held: held, inputs: inputs, points: points,
            leaveOneOutUnit: unit, writtenBy: try top["written-by"]?.string() ?? "")
    }

    private static func setup(_ reader: NodeReader) throws(ScenarioError) -> TimingProfile.Setup {
        let fields = try reader.mapping(keys: setupKeys, what: "a mapping with `hardware`, `model`")
        let hardwareReader = try fields.required("hardware", expecting: "a GPU name like H100-80GB")
        let hardwareName = try hardwareReader.string("a GPU name like H100-80GB")
        guard let gpu = GPUSpec.named(hardwareName) else {
            throw hardwareReader.error(
                "unknown hardware `\(hardwareName)`" + Suggestions.hint(for: hardwareName, among: GPUSpec.knownNames))
        }
        let modelReader = try fields.required("model", expecting: "a model name like Llama-3-8B")
        let modelName = try modelReader.string("a model name like Llama-3-8B")
        // A model read from a config.json is kept under its own name; built-ins take their canonical spelling.
        let model = LLMSpec.named(modelName)?.name ?? modelName
        return TimingProfile.Setup(
            hardware: gpu.name, model: model,
            tensorParallelSize: try fields["tensor-parallel-size"]?.integer(in: 1...64) ?? 1,
            quantization: try fields["quantization"]?.choice("quantization method"),
            kvCacheDType: try fields["kv-cache-dtype"]?.choice("kv-cache-dtype") ?? .auto,
            enableExpertParallel: try fields["enable-expert-parallel"]?.bool() ?? false)
    }

    // MARK: Writing

    /// A number as the file writes it: six significant digits, which the fit reports its errors with, so the
    /// numbers in the file are the ones that were checked.
    public static func rounded(_ value: Double) -> Double { Double(format(value)) ?? value }

    static func format(_ value: Double) -> String { String(format: "%.6g", value) }

    /// The file's text: a commented header, then YAML in a fixed key order.
    public static func text(_ profile: TimingProfile) -> String {
        func scalar(_ text: String) -> Node { Node(text) }
        func number(_ value: Double) -> Node { Node(format(value)) }
        func quoted(_ text: String) -> Node { Node.scalar(.init(text, .implicit, .doubleQuoted)) }
        func mapping(_ pairs: [(String, Node)], flow: Bool = false) -> Node {
            .mapping(.init(pairs.map { (Node($0.0), $0.1) }, .implicit, flow ? .flow : .block))
        }
        let setup = profile.setup
        var setupPairs: [(String, Node)] = [
            ("hardware", scalar(setup.hardware)), ("model", quoted(setup.model)),
            ("tensor-parallel-size", scalar(String(setup.tensorParallelSize))),
        ]
        if let quantization = setup.quantization { setupPairs.append(("quantization", scalar(quantization.rawValue))) }
        setupPairs.append(("kv-cache-dtype", scalar(setup.kvCacheDType.rawValue)))
        setupPairs.append(("enable-expert-parallel", scalar(setup.enableExpertParallel ? "true" : "false")))
        let parameters = TimingProfile.Parameter.allCases.map { ($0.rawValue, number($0.value(in: profile.factors))) }
        var pairs: [(String, Node)] = [
            ("profile", scalar(String(TimingProfile.formatVersion))),
            ("written-by", quoted(profile.writtenBy)), ("setup", mapping(setupPairs)),
            ("parameters", mapping(parameters)),
            ("fitted", .sequence(.init(profile.fitted.map { Node($0.rawValue) }, .implicit, .flow))),
        ]
        if !profile.held.isEmpty {
            pairs.append(("held", mapping(profile.held.map { ($0.parameter.rawValue, quoted($0.reason)) })))
        }
        pairs.append(
            (
                "inputs",
                .sequence(
                    .init(
                        profile.inputs.map {
                            mapping(
                                [
                                    ("file", quoted($0.file)), ("kind", scalar($0.kind.rawValue)),
                                    ("sha256", quoted($0.sha256)),
                                ],
                                flow: true)
                        }))
            ))
        let fitError = profile.fitError
        var fit: [(String, Node)] = [
            ("error", mapping([("mean", number(fitError.mean)), ("worst", number(fitError.worst))], flow: true))
        ]
        if let heldOut = profile.heldOutError {
            fit.append(
                (
                    "leave-one-out",
                    mapping(
                        [
                            ("leaves-out", scalar(profile.leaveOneOutUnit)), ("mean", number(heldOut.mean)),
                            ("worst", number(heldOut.worst)),
                        ], flow: true)
                ))
        }
        fit.append(
            (
                "points",
                .sequence(
                    .init(
                        profile.points.map { point in
                            var fields: [(String, Node)] = [
                                ("input", quoted(point.input)), ("what", quoted(point.what)),
                                ("measured", number(point.measured)), ("predicted", number(point.predicted)),
                                ("error", number(point.error)),
                            ]
                            if let heldOut = point.heldOut, let error = point.heldOutError {
                                fields += [("held-out", number(heldOut)), ("held-out-error", number(error))]
                            }
                            return mapping(fields, flow: true)
                        }))
            ))
        pairs.append(("fit", mapping(fit)))
        let body = (try? Yams.serialize(node: mapping(pairs), width: -1, sortKeys: false)) ?? ""
        var header = """
            # A step-timing profile fitted by `infermesh calibrate` (docs/calibration.md, "Calibrate to your fleet").
            # A scenario uses it with `timing: {profile: THIS_FILE}` in a pool's `gpu` block of the same setup.
            # Only `setup` and `parameters` time a step; `fit` records how well they matched the inputs (errors are
            # (predicted - measured) / measured; `held-out` is the prediction of a fit made without that point or file).

            """
        for parameter in TimingProfile.Parameter.allCases {
            header += "#   \(parameter.rawValue): \(parameter.meaning)\n"
        }
        return header + body
    }
}
