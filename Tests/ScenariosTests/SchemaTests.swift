import Foundation
import Scenarios
import Testing

/// `docs/scenario.schema.json` is valid JSON, strict, and names exactly the keys the loader accepts.
@Suite struct SchemaTests {
    static func schema() throws -> [String: Any] {
        let url = Support.repositoryRoot.appendingPathComponent("docs/scenario.schema.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        return try #require(object as? [String: Any])
    }

    /// Every property name anywhere under `node`.
    static func propertyNames(in node: Any) -> Set<String> {
        var names = Set<String>()
        if let object = node as? [String: Any] {
            if let properties = object["properties"] as? [String: Any] { names.formUnion(properties.keys) }
            for (key, value) in object where key != "properties" { names.formUnion(propertyNames(in: value)) }
            if let properties = object["properties"] as? [String: Any] {
                for value in properties.values { names.formUnion(propertyNames(in: value)) }
            }
        } else if let array = node as? [Any] {
            for value in array { names.formUnion(propertyNames(in: value)) }
        }
        return names
    }

    /// Every object schema with `properties` must forbid others.
    static func looseObjects(in node: Any, path: String = "#") -> [String] {
        var loose: [String] = []
        if let object = node as? [String: Any] {
            if object["properties"] != nil, object["additionalProperties"] as? Bool != false { loose.append(path) }
            for (key, value) in object { loose += looseObjects(in: value, path: "\(path)/\(key)") }
        } else if let array = node as? [Any] {
            for (index, value) in array.enumerated() { loose += looseObjects(in: value, path: "\(path)/\(index)") }
        }
        return loose
    }

    @Test func isStrictDraft202012() throws {
        let schema = try Self.schema()
        #expect(schema["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema")
        #expect(Self.looseObjects(in: schema) == [])
    }

    /// Each loader section is described by the schema's top level or by the `$defs` of the same name.
    @Test func mentionsEveryKnownKey() throws {
        let schema = try Self.schema()
        let definitions = try #require(schema["$defs"] as? [String: Any])
        let sections: [String: [String]] = [
            "slo": ["slo"], "pool": ["pool"], "station": ["station"], "gpu": ["gpu"], "workload": ["workload"],
            "arrival": ["arrival"], "distribution": ["durationDistribution", "tokenDistribution"],
            "router": ["router"], "endpoint-picker": ["endpointPicker"], "plugin": ["endpointPicker"],
            "scheduling-profile": ["endpointPicker"], "plugin-reference": ["endpointPicker"],
            "prefix-groups": ["workload"], "lora": ["workload"], "saturation-detector": ["router"],
            "flow-control": ["router"],
            "session": ["session"], "connection": ["session"], "autoscaler": ["autoscaler"], "trace": ["trace"],
            "trace-columns": ["trace"], "trace-window": ["trace"],
            "mmpp-state": ["arrival"], "schedule": ["schedule"], "schedule-step": ["schedule"],
            "schedule-ramp": ["schedule"], "diurnal": ["schedule"], "spike": ["schedule"],
            "cluster": ["cluster"], "placement": ["pool"], "mesh": ["mesh"], "link": ["mesh"], "data-path": ["mesh"],
            "east-west-gateway": ["mesh"], "connection-pool": ["mesh"], "outlier-detection": ["mesh"],
            "retries": ["mesh"], "fault": ["fault"], "link-down": ["fault"], "link-degraded": ["fault"],
            "replica-crash": ["fault"], "model-config": ["gpu"], "timing": ["gpu"],
            "disaggregation": ["disaggregation"], "pd-profile-handler": ["disaggregation"],
            "kv-transfer": ["disaggregation"],
        ]
        var everywhere = Set<String>()
        for (section, keys) in ScenarioLoader.knownKeys {
            let described: Set<String>
            if section == "scenario" {
                described = Set((schema["properties"] as? [String: Any] ?? [:]).keys)
            } else {
                let names = try #require(sections[section], "no schema definition for section \(section)")
                described = names.reduce(into: Set<String>()) {
                    $0.formUnion(Self.propertyNames(in: definitions[$1] ?? [:]))
                }
            }
            #expect(
                Set(keys).subtracting(described).isEmpty, "\(section): \(Set(keys).subtracting(described).sorted())")
            everywhere.formUnion(keys)
        }
        let extra = Self.propertyNames(in: schema).subtracting(everywhere)
        #expect(extra.isEmpty, "schema keys the loader does not accept: \(extra.sorted())")
    }

    /// The enumerations a schema must repeat match the registries they come from.
    @Test func listsTheRegisteredNames() throws {
        let schema = try Self.schema()
        let properties = try #require(schema["properties"] as? [String: Any])
        let items = (properties["policies"] as? [String: Any])?["items"] as? [String: Any]
        let registered = (items?["anyOf"] as? [[String: Any]])?.first?["enum"] as? [String]
        #expect(registered == PolicyRegistry.names)
        let definitions = try #require(schema["$defs"] as? [String: Any])
        let workload = (definitions["workload"] as? [String: Any])?["properties"] as? [String: Any]
        let criticality = workload?["criticality"] as? [String: Any]
        #expect(criticality?["enum"] as? [String] == Criticality.allCases.map(\.rawValue))
    }
}
