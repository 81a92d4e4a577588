import Fleet
import Yams

extension NodeReader {
    /// `router`: how often replica metrics are scraped and when they go stale.
    func router() throws(ScenarioError) -> RouterSpec {
        let fields = try mapping(keys: ScenarioKeys.router, what: "a mapping of router settings")
        var router = RouterSpec()
        if let refresh = fields["refresh-interval"] { router.refreshInterval = try refresh.duration(allowZero: true) }
        if let staleness = fields["metrics-staleness"] {
            router.metricsStaleness = try staleness.duration(allowZero: false)
        }
        if let decision = fields["decision-time"] { router.decisionTime = try decision.duration(allowZero: true) }
        if let pickers = fields["endpoint-pickers"] { router.endpointPickers = try pickers.integer(in: 1...1_000) }
        if let detector = fields["saturation-detector"] {
            let thresholds = try detector.mapping(
                keys: ScenarioKeys.saturationDetector, what: "a mapping like {queue-depth-threshold: 5}")
            if let queue = thresholds["queue-depth-threshold"] {
                router.saturation.queueDepthThreshold = try queue.integer(in: 1...1_000_000)
            }
            if let kv = thresholds["kv-cache-util-threshold"] {
                let value = try kv.number(.positive)
                guard value <= 1 else { throw kv.expected("a fraction in (0, 1]") }
                router.saturation.kvCacheUtilThreshold = value
            }
        }
        if let flow = fields["flow-control"] {
            let settings = try flow.mapping(keys: ScenarioKeys.flowControl, what: "a mapping like {max-queue: 1000}")
            var control = FlowControlSpec()
            if let queue = settings["max-queue"] { control.maxQueue = try queue.integer(in: 1...100_000_000) }
            if let wait = settings["max-wait"] { control.maxWait = try wait.duration(allowZero: false) }
            router.flowControl = control
        }
        return router
    }

    /// `endpoint-picker`: plugins and scheduling profiles, shaped as the inference extension's
    /// EndpointPickerConfig (its field names, camelCase, are kept so a real config can be pasted in).
    func endpointPicker() throws(ScenarioError) -> EndpointPickerConfig {
        let fields = try mapping(
            keys: ScenarioKeys.endpointPicker, what: "a mapping with `plugins` and `schedulingProfiles`")
        var plugins: [PluginSpec] = []
        var kinds: [String: PluginType.Kind] = [:]
        var pluginReaders: [String: NodeReader] = [:]
        let pluginsReader = try fields.required("plugins", expecting: "a non-empty list of plugins")
        for item in try pluginsReader.sequence(nonEmpty: true, of: "plugins") {
            let (spec, type) = try item.pluginSpec()
            if let first = pluginReaders[spec.name] {
                throw item.error("duplicate plugin name `\(spec.name)`\(first.firstAt); give each instance a `name`")
            }
            pluginReaders[spec.name] = item
            kinds[spec.name] = type.kind
            plugins.append(spec)
        }

        var profiles: [SchedulingProfileSpec] = []
        var profileReaders: [String: NodeReader] = [:]
        let profilesReader = try fields.required("schedulingProfiles", expecting: "a non-empty list of profiles")
        for item in try profilesReader.sequence(nonEmpty: true, of: "scheduling profiles") {
            let profile = try item.schedulingProfile(kinds: kinds)
            let nameReader = item.nameReader ?? item
            if let first = profileReaders[profile.name] {
                throw nameReader.error("duplicate profile name `\(profile.name)`\(first.firstAt)")
            }
            if PolicyRegistry.entry(named: profile.name) != nil {
                throw nameReader.error(
                    "profile name `\(profile.name)` is a built-in policy; choose another name for your profile")
            }
            profileReaders[profile.name] = nameReader
            profiles.append(profile)
        }
        return EndpointPickerConfig(plugins: plugins, schedulingProfiles: profiles)
    }

    /// One plugin instance: `type`, optional `name`, optional `parameters`, checked by building it once.
    private func pluginSpec() throws(ScenarioError) -> (PluginSpec, PluginType) {
        let fields = try mapping(keys: ScenarioKeys.plugin, what: "a plugin mapping with a `type`")
        let typeReader = try fields.required("type", expecting: "a plugin type, like queue-scorer")
        let typeName = try typeReader.string("a plugin type")
        guard let type = PluginRegistry.type(named: typeName) else {
            throw typeReader.error(
                "unknown plugin type `\(typeName)`" + Suggestions.hint(for: typeName, among: PluginRegistry.names)
                    + "; known: \(PluginRegistry.names.joined(separator: ", "))")
        }
        let name = try fields["name"]?.name() ?? typeName
        var parameters = PluginParameters()
        var parameterReaders: [String: NodeReader] = [:]
        if let block = fields["parameters"] {
            guard case .mapping(let mapping) = block.node else {
                throw block.expected("a mapping of plugin parameters")
            }
            let keys: [String] = Array(mapping.keys.compactMap { $0.scalar?.string })
            let entries = try block.mapping(keys: keys, what: "a mapping of plugin parameters")
            for (key, value) in entries.entries {
                parameterReaders[key] = value
                if value.isBareScalar, let text = value.scalarText, case .value(let number) = Units.number(text) {
                    parameters.values[key] = .number(number)
                } else {
                    parameters.values[key] = .text(try value.string("a number or a string"))
                }
            }
        }
        do {
            _ = try type.make(parameters, RandomStream(name: "validation", runSeed: 0))
        } catch let error as PluginError {
            let at = error.parameter.flatMap { parameterReaders[$0] } ?? fields["parameters"] ?? self
            throw at.error("\(typeName): \(error.message)")
        } catch {
            throw self.error("\(typeName): \(error)")
        }
        return (PluginSpec(type: typeName, name: name, parameters: parameters), type)
    }

    /// One scheduling profile: a `name` and its plugin references, at most one picker among them.
    private func schedulingProfile(kinds: [String: PluginType.Kind]) throws(ScenarioError) -> SchedulingProfileSpec {
        let fields = try mapping(
            keys: ScenarioKeys.schedulingProfile, what: "a profile mapping with `name` and `plugins`")
        let name = try fields.required("name", expecting: "a profile name, used as a policy name").name()
        var references: [SchedulingProfileSpec.Reference] = []
        var picker: NodeReader?
        let listReader = try fields.required("plugins", expecting: "a non-empty list of plugin references")
        for item in try listReader.sequence(nonEmpty: true, of: "plugin references") {
            let entry = try item.mapping(keys: ScenarioKeys.pluginReference, what: "a mapping with `pluginRef`")
            let refReader = try entry.required("pluginRef", expecting: "the name of a plugin listed under `plugins`")
            let ref = try refReader.string("a plugin name")
            guard let kind = kinds[ref] else {
                let known = kinds.keys.sorted()
                throw refReader.error(
                    "no plugin named `\(ref)` under `plugins`" + Suggestions.hint(for: ref, among: known))
            }
            if kind == .picker {
                if let first = picker { throw item.error("a profile has one picker\(first.firstAt)") }
                picker = item
            }
            var weight = 1.0
            if let weightReader = entry["weight"] {
                guard kind == .scorer else { throw weightReader.error("only scorers take a `weight`") }
                weight = try weightReader.number(.nonNegative)
            }
            references.append(SchedulingProfileSpec.Reference(pluginRef: ref, weight: weight))
        }
        return SchedulingProfileSpec(name: name, plugins: references)
    }
}
