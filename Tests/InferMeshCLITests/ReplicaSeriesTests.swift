import Foundation
import ResultsStore
import Testing

@testable import InferMeshCLI

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The time-series charts at fleet scale: a summary above the line limit, a gap where a replica was not
/// provisioned, and a panel per pool or cluster.
@Suite struct ReplicaSeriesTests {
    /// Gauges of `replicas` sampled every second from 0 to `seconds - 1`; `waiting(row, t)` nil leaves no sample.
    static func gauges(
        _ replicas: [ReplicaRow], seconds: Int, kvCache: Double? = nil, waiting: (Int, Int) -> Int?
    ) -> ReplicaGauges {
        var gauges = ReplicaGauges(replicas: replicas)
        for t in 0..<seconds {
            for (row, replica) in replicas.enumerated() {
                guard let value = waiting(row, t) else { continue }
                gauges.add(
                    timeNs: Int64(t) * 1_000_000_000, replica: replica.replica,
                    gauge: .init(waiting: Double(value), kvCache: kvCache))
            }
        }
        return gauges
    }

    static func pool(_ name: String, _ count: Int, from first: Int = 0, cluster: String? = nil) -> [ReplicaRow] {
        (0..<count).map {
            var row = ReplicaRow(replica: first + $0, pool: name, kind: "station")
            row.cluster = cluster
            return row
        }
    }

    /// The time series of one policy's `gauges` over `seconds`, parsed.
    static func chart(_ gauges: ReplicaGauges, seconds: Double) throws -> SVGElements {
        var data = PlotData()
        data.policies = ["p"]
        data.gauges = [gauges]
        data.horizonSeconds = seconds
        return try SVGElements(Plots.timeseries(data).render())
    }

    @Test func aFleetAboveTheLimitDrawsItsMeanBandAndWorstReplicaNotALineEach() throws {
        // 64 replicas waiting r mod 10, except replica 17, which peaks at 40 at t = 5 s.
        let gauges = Self.gauges(Self.pool("h100", 64), seconds: 10) { row, t in row == 17 && t == 5 ? 40 : row % 10 }
        guard case .summary(let summary) = ReplicaSeries.drawing(gauges, members: Array(0..<64), metric: .waiting)
        else {
            Issue.record("64 replicas should be summarized")
            return
        }
        #expect(summary.replicas == 64)
        // At t = 0: 0–3 seven times each and 4–9 six times each, so the mean is 276/64, p10 (rank 6.3) is 0.3
        // and p90 (rank 56.7) is 8.
        #expect(summary.mean.count == 1 && summary.mean[0].count == 10)
        #expect(abs(summary.mean[0][0].value - 276.0 / 64) < 1e-12)
        #expect(abs(summary.band[0][0].low - 0.3) < 1e-12 && abs(summary.band[0][0].high - 8) < 1e-12)
        #expect(summary.worst?.line.replica.name == "h100/17" && summary.worst?.peak == 40)

        let svg = try Self.chart(gauges, seconds: 10)
        #expect(svg.all("polyline", class: "replica-line").isEmpty)
        #expect(svg.all("polyline", class: "replica-mean").count == 1)
        #expect(svg.all("polygon", class: "replica-band").count == 1)
        #expect(svg.all("polyline", class: "replica-worst").map { $0["data-replica"] } == ["17"])
        #expect(svg.texts(class: "worst-label") == ["worst: h100/17 (peak 40)"])
        #expect(svg.texts(class: "chart-title")[0].hasSuffix("mean, p10–p90 and worst of 64 replicas"))
        let legend = svg.legendTexts
        #expect(legend.contains("mean of the replicas") && legend.contains("p10–p90 of the replicas"))
        #expect(legend.contains("worst replica: highest") && legend.contains("peak of waiting requests"))
    }

    @Test(arguments: [(8, false), (9, true)]) func theLineLimitIsEightReplicas(count: Int, summarized: Bool) throws {
        #expect(ReplicaSeries.individualLineLimit == 8)
        let gauges = Self.gauges(Self.pool("pool", count), seconds: 5) { row, t in row + t }
        switch ReplicaSeries.drawing(gauges, members: Array(0..<count), metric: .waiting) {
        case .lines(let lines): #expect(!summarized && lines.count == count)
        case .summary: #expect(summarized)
        }
        let svg = try Self.chart(gauges, seconds: 5)
        #expect(svg.all("polyline", class: "replica-line").count == (summarized ? 0 : count))
    }

    @Test func aReplicaNotProvisionedLeavesAGapNotAZero() throws {
        // Replica 1 is ordered at 3 s and ready at 6 s: its samples at 3–5 s are the zeros `sample` holds for a
        // provisioning replica. It also has no sample at 8 s.
        var gauges = Self.gauges(Self.pool("auto", 2), seconds: 10) { row, t in row == 1 && t == 8 ? nil : 1 + t % 3 }
        gauges.removeUnprovisioned([
            ScalingEventRow(
                timeNs: 3_000_000_000, pool: "auto", replica: 1, state: "provisioning", desiredReplicas: 2,
                metricValue: 4),
            ScalingEventRow(
                timeNs: 6_000_000_000, pool: "auto", replica: 1, state: "ready", desiredReplicas: 2, metricValue: nil),
        ])
        guard case .lines(let lines) = ReplicaSeries.drawing(gauges, members: [0, 1], metric: .waiting) else {
            Issue.record("two replicas draw a line each")
            return
        }
        #expect(lines[0].segments.map { $0.map(\.t) } == [Array(0..<10).map(Double.init)])
        #expect(lines[1].segments.map { $0.map(\.t) } == [[0, 1, 2], [6, 7], [9]])
        #expect(!lines[1].segments.joined().contains { $0.value == 0 })

        // Drawn: replica 1 is three polylines, none of them over 3–5 s or 8 s.
        let svg = try Self.chart(gauges, seconds: 10)
        let area = try #require(svg.all("rect", class: "plot-area").first)
        let left = Double(area["x"]!)!, width = Double(area["width"]!)!
        let pieces = svg.all("polyline", class: "replica-line").filter { $0["data-replica"] == "1" }
        #expect(pieces.count == 3)
        let xs = pieces.map { SVGElements.points($0["points"]!).map { ($0.x - left) / width * 10 } }
        #expect(xs.map { $0.map { $0.rounded() } } == [[0, 1, 2], [6, 7], [9]])
    }

    @Test func aRealAutoscaledRunDrawsNoReplicaWhileItIsProvisioned() throws {
        let scenario = """
            # Autoscaled stations: replicas ordered during a spike take 5 s to be ready.
            name: autoscaled
            seed: 2
            horizon: 60s
            sample-interval: 1s
            policies: [round-robin]
            pools:
              - name: auto
                replicas: 1
                autoscaler: {metric: num_requests_waiting, target: 2, min-replicas: 1, max-replicas: 3, sync-period: 5s, provisioning-delay: 5s, scale-down-stabilization: 10s}
                station: {servers: 1, service: {dist: exponential, mean: 500ms}}
            workloads:
              - name: jobs
                rate: 1.5/s
                schedule: {spike: {start: 15s, ramp-up: 2s, peak: 3, hold: 15s, decay: 2s}}
            """
        let (folder, db) = try ReportTests.storedRuns(scenario)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try ResultsStore(path: db)
        let run = try #require(try store.runs().first)
        let events = try store.scalingEvents(runID: run.id)
        let ordered = events.filter { $0.state == "provisioning" }
        #expect(!ordered.isEmpty, "the spike should order replicas")
        let gauges = try #require(try PlotData(store: store, runs: [run]).gauges.first)
        guard case .lines(let lines) = ReplicaSeries.drawing(gauges, members: [0, 1, 2], metric: .waiting) else {
            Issue.record("three replicas draw a line each")
            return
        }
        let samples = try store.samples(runID: run.id)
        for order in ordered {
            let ready = events.first {
                $0.replica == order.replica && $0.timeNs > order.timeNs && $0.state != "provisioning"
            }
            let end = Double(ready?.timeNs ?? run.horizonNs) / 1e9, start = Double(order.timeNs) / 1e9
            // `sample` holds zeros for the replica while it is provisioned; the chart draws none of them.
            let stored = samples.filter {
                $0.replica == order.replica && Double($0.timeNs) / 1e9 >= start && Double($0.timeNs) / 1e9 < end
            }
            #expect(!stored.isEmpty && stored.allSatisfy { $0.numRequestsWaiting == 0 })
            let drawn = lines[order.replica].segments.joined().filter { $0.t >= start && $0.t < end }
            #expect(drawn.isEmpty, "replica \(order.replica) drawn while provisioning from \(start) s")
        }
        // Replicas 1 and 2 did not exist before the spike: their lines start after it began.
        for replica in [1, 2] {
            #expect(lines[replica].segments.first.map { $0[0].t > 15 } ?? true)
        }
    }

    @Test func scalingEventsAtASampleTimeApplyToIt() {
        // A draining replica still serves; once off (or ordered again, provisioning) it is gone, from the sample
        // taken at the event's own time on.
        var gauges = Self.gauges(Self.pool("auto", 1), seconds: 6) { _, _ in 0 }
        gauges.removeUnprovisioned([
            ScalingEventRow(
                timeNs: 2_000_000_000, pool: "auto", replica: 0, state: "draining", desiredReplicas: 0, metricValue: 0),
            ScalingEventRow(
                timeNs: 3_000_000_000, pool: "auto", replica: 0, state: "off", desiredReplicas: 0, metricValue: nil),
            ScalingEventRow(
                timeNs: 5_000_000_000, pool: "auto", replica: 0, state: "provisioning", desiredReplicas: 1,
                metricValue: 3),
        ])
        #expect(gauges.gauges[0].map { $0 != nil } == [true, true, true, false, false, false])
    }

    @Test func poolsAndClustersAreDrawnApart() throws {
        let mixed =
            Self.pool("a", 2, cluster: "east") + Self.pool("a", 2, from: 2, cluster: "west")
            + Self.pool("b", 1, from: 4, cluster: "east")
        let gauges = Self.gauges(mixed, seconds: 4) { row, _ in row }
        #expect(gauges.groups.map(\.label) == ["a · east", "a · west", "b · east"])
        #expect(gauges.groups.map(\.members) == [[0, 1], [2, 3], [4]])
        #expect(
            ReplicaGauges(replicas: Self.pool("a", 2, cluster: "e") + Self.pool("a", 1, from: 2, cluster: "w")).groups
                .map(\.label) == ["e", "w"])
        #expect(
            ReplicaGauges(replicas: Self.pool("a", 1) + Self.pool("b", 1, from: 1)).groups.map(\.label) == ["a", "b"])
        #expect(ReplicaGauges(replicas: Self.pool("a", 3, cluster: "east")).groups.map(\.label) == [""])
        // Replica names count from 0 within each pool.
        #expect(gauges.replicas.map(\.name) == ["a/0", "a/1", "a/2", "a/3", "b/0"])

        let svg = try Self.chart(gauges, seconds: 4)
        // A waiting panel per group and one saying there is no KV cache.
        #expect(svg.all("rect", class: "plot-area").count == 4)
        #expect(
            svg.texts(class: "chart-title").prefix(3).map {
                $0.components(separatedBy: " · ").dropFirst().joined(separator: " · ")
            }
                == ["a · east", "a · west", "b · east"])
        let lines = svg.all("polyline", class: "replica-line")
        #expect(lines.map { $0["data-group"]! } == ["a · east", "a · east", "a · west", "a · west", "b · east"])
        #expect(lines.map { $0["data-replica"]! } == ["0", "1", "2", "3", "4"])
    }

    @Test func faultsRunFromTheirStartToTheirEndOrTheHorizon() {
        let events = [
            MeshEventRow(timeNs: 50_000_000_000, kind: "fault_start", subject: "big/2", detail: "replica crash"),
            MeshEventRow(timeNs: 55_000_000_000, kind: "endpoint_removed", subject: "big/2", detail: ""),
            MeshEventRow(timeNs: 60_000_000_000, kind: "fault_start", subject: "east", detail: "cluster outage"),
            MeshEventRow(timeNs: 70_000_000_000, kind: "fault_end", subject: "big/2", detail: "replica crash"),
        ]
        #expect(
            FaultWindow.windows(events, horizonNs: 90_000_000_000) == [
                FaultWindow(start: 50, end: 70, subject: "big/2", detail: "replica crash"),
                FaultWindow(start: 60, end: 90, subject: "east", detail: "cluster outage"),
            ])
    }

    @Test func aLongLineIsThinnedAndEachStretchKeepsItsLastPoint() {
        var values: [Double?] = (0..<4_000).map(Double.init)
        values[2_000] = nil
        let stretches = ReplicaSeries.stretches(values)
        #expect(stretches.count == 2)
        #expect(stretches.map { $0.last!.index } == [1_999, 3_999])
        #expect(stretches.map { $0.first!.index } == [0, 2_001])
        #expect(stretches.joined().count <= ReplicaSeries.maxPointsPerLine + 2)
        #expect(stretches[0].prefix(3).map(\.index) == [0, 3, 6])
    }
}

/// Every element of an SVG document (or an inline `<svg>`), with its attributes and text, read with XMLParser,
/// which fails on malformed markup.
final class SVGElements: NSObject, XMLParserDelegate {
    struct Element {
        let name: String
        let attributes: [String: String]
        var text = ""
        subscript(_ attribute: String) -> String? { attributes[attribute] }
    }

    private(set) var elements: [Element] = []
    private var open: [Int] = []
    /// Whether each element is inside the legend.
    private(set) var inLegend: [Bool] = []
    private var legendDepth = 0

    init(_ markup: String) throws {
        super.init()
        let parser = XMLParser(data: Data(markup.utf8))
        parser.delegate = self
        guard parser.parse() else {
            throw ParseFailure(description: "malformed SVG: \(String(describing: parser.parserError))")
        }
    }

    struct ParseFailure: Error, CustomStringConvertible { let description: String }

    func all(_ name: String, class cssClass: String) -> [Element] {
        elements.filter { $0.name == name && $0["class"] == cssClass }
    }

    func texts(class cssClass: String) -> [String] { all("text", class: cssClass).map(\.text) }

    /// The legend's labels, line by line.
    var legendTexts: [String] {
        zip(elements, inLegend).filter { $0.0.name == "text" && $0.1 }.map(\.0.text)
    }

    /// The (x, y) pairs of a `points` attribute.
    static func points(_ attribute: String) -> [(x: Double, y: Double)] {
        attribute.split(separator: " ").map { pair in
            let xy = pair.split(separator: ",").map { Double($0)! }
            return (xy[0], xy[1])
        }
    }

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if name == "g" && attributes["class"] == "legend" || legendDepth > 0 { legendDepth += 1 }
        open.append(elements.count)
        elements.append(Element(name: name, attributes: attributes))
        inLegend.append(legendDepth > 0)
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let last = open.last { elements[last].text += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
        if legendDepth > 0 { legendDepth -= 1 }
    }
}
