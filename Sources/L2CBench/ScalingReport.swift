import Foundation
import L2CExperiments
import L2CRun

/// A scaling study as one self-contained HTML page with inline SVG: throughput and efficiency against ranks
/// (measured points, one per run, with the prediction drawn beside them) and the stacked time breakdown of a
/// step per rank count, measured and predicted.
public enum ScalingReport {
    static let colours = ["forward": "#4e79a7", "loss": "#f28e2b", "backward": "#59a14f", "batchnorm_sync": "#b07aa1",
                          "allreduce_exposed": "#e15759", "optimizer": "#9c755f"]

    public static func html(_ study: ScalingStudy, title: String) -> String {
        let runs = study.runs.sorted { $0.ranks < $1.ranks }
        let ranks = runs.map(\.ranks)
        let predicted = runs.map { run in study.prediction.map { Double(run.globalBatch) / $0.stepSeconds(ranks: run.ranks) } }
        let throughput = chart(title: "Throughput (images/s)", ranks: ranks, measured: runs.map(\.imagesPerSecond),
                               predicted: predicted, ideal: runs.first.map { base in ranks.map { Double($0) / Double(base.ranks) * base.imagesPerSecond } },
                               pointClass: "run")
        let efficiency = chart(title: "Efficiency against \(ranks.first ?? 1) rank(s)", ranks: ranks,
                               measured: runs.map { study.efficiency(imagesPerSecond: $0.imagesPerSecond, ranks: $0.ranks) },
                               predicted: zip(runs, predicted).map { run, p in p.map { study.efficiency(imagesPerSecond: $0, ranks: run.ranks) } },
                               ideal: ranks.map { _ in 1 }, pointClass: "run-efficiency", floorAtZero: true)
        let bars = breakdown(runs, prediction: study.prediction)
        let rows = study.csv().split(separator: "\n").map { line in
            "<tr>" + line.split(separator: ",", omittingEmptySubsequences: false).map { "<td>\($0)</td>" }.joined() + "</tr>"
        }.joined(separator: "\n")
        let assumptions = study.prediction.map { p in
            let ar = p.network.model(.allReduce)
            return String(format: "Prediction: Hockney all-reduce model measured on %d rank(s), %d host(s): α = %.1f µs, 1/β = %.3f GB/s; compute from the %d-rank run%@; overlap %@.",
                          p.network.ranks, p.network.hosts, (ar?.alpha ?? 0) * 1e6, ar.map { $0.beta > 0 ? 1 / $0.beta / 1e9 : 0 } ?? 0,
                          p.baseline.ranks, p.sharedCores.map { ", all ranks sharing \($0) cores" } ?? "", p.overlap ? "on" : "off")
        } ?? "No communication model: measured points only."
        return """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>body{font-family:sans-serif;margin:2em;max-width:1100px}svg{margin:0.5em 1em 0.5em 0}table{border-collapse:collapse;font-size:12px}
        td{border:1px solid #ccc;padding:2px 5px}text{font-size:12px}.legend rect{stroke:none}</style></head>
        <body>
        <h1>\(escape(title))</h1>
        <p>\(escape(study.mode == .weak ? "Weak scaling: the same batch per rank at every rank count." : "Strong scaling: the same global batch at every rank count.")) \(escape(assumptions))</p>
        \(throughput)
        \(efficiency)
        \(bars)
        <h2>Runs</h2>
        <table>\(rows)</table>
        </body></html>

        """
    }

    /// A line chart against ranks (log₂ axis): measured circles, predicted squares joined by a dashed line, the ideal dotted.
    static func chart(title: String, ranks: [Int], measured: [Double], predicted: [Double?], ideal: [Double]?, pointClass: String,
                      floorAtZero: Bool = false) -> String {
        let (width, height, left, bottom, top, right) = (480.0, 300.0, 60.0, 40.0, 30.0, 20.0)
        let values = (measured + predicted.compactMap { $0 } + (ideal ?? [])).filter(\.isFinite)
        let maxY = max(values.max() ?? 1, 1e-9) * 1.1
        let minY = floorAtZero ? 0 : 0.0
        let logs = ranks.map { log2(Double($0)) }
        let (lo, hi) = (logs.min() ?? 0, max(logs.max() ?? 1, (logs.min() ?? 0) + 1))
        func x(_ r: Int) -> Double { left + (log2(Double(r)) - lo) / (hi - lo) * (width - left - right) }
        func y(_ v: Double) -> Double { height - bottom - (v - minY) / (maxY - minY) * (height - bottom - top) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(escape(title))\">\n"
        svg += "<text x=\"\(left)\" y=\"18\" font-weight=\"bold\">\(escape(title))</text>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - right)\" y2=\"\(height - bottom)\" stroke=\"#333\"/>"
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(height - bottom)\" stroke=\"#333\"/>\n"
        for r in Set(ranks).sorted() {
            svg += "<text x=\"\(f(x(r)))\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\">\(r)</text>"
        }
        svg += "<text x=\"\((width + left) / 2)\" y=\"\(height - 4)\" text-anchor=\"middle\">ranks</text>\n"
        for i in 0...4 {
            let v = minY + (maxY - minY) * Double(i) / 4
            svg += "<text x=\"\(left - 6)\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(String(format: v >= 10 ? "%.0f" : "%.2f", v))</text>"
        }
        svg += "\n"
        if let ideal {
            svg += "<polyline class=\"ideal\" fill=\"none\" stroke=\"#999\" stroke-dasharray=\"2,3\" points=\"" + zip(ranks, ideal).map { "\(f(x($0))),\(f(y($1)))" }.joined(separator: " ") + "\"/>\n"
        }
        let predictedPoints = zip(ranks, predicted).compactMap { r, p in p.map { (r, $0) } }
        if !predictedPoints.isEmpty {
            svg += "<polyline class=\"predicted\" fill=\"none\" stroke=\"#e15759\" stroke-dasharray=\"6,3\" points=\"" + predictedPoints.map { "\(f(x($0))),\(f(y($1)))" }.joined(separator: " ") + "\"/>\n"
            for (r, p) in predictedPoints {
                svg += "<rect class=\"predicted-point\" x=\"\(f(x(r) - 4))\" y=\"\(f(y(p) - 4))\" width=\"8\" height=\"8\" fill=\"none\" stroke=\"#e15759\"><title>predicted \(r) ranks: \(String(format: "%.4g", p))</title></rect>\n"
            }
        }
        for (r, v) in zip(ranks, measured) where v.isFinite {
            svg += "<circle class=\"\(pointClass)\" data-ranks=\"\(r)\" cx=\"\(f(x(r)))\" cy=\"\(f(y(v)))\" r=\"4\" fill=\"#4e79a7\"><title>\(r) ranks: \(String(format: "%.4g", v))</title></circle>\n"
        }
        svg += "<g class=\"legend\"><circle cx=\"\(width - 150)\" cy=\"14\" r=\"4\" fill=\"#4e79a7\"/><text x=\"\(width - 142)\" y=\"18\">measured</text>"
        svg += "<rect x=\"\(width - 84)\" y=\"10\" width=\"8\" height=\"8\" fill=\"none\" stroke=\"#e15759\"/><text x=\"\(width - 72)\" y=\"18\">predicted</text></g>\n"
        return svg + "</svg>"
    }

    /// Stacked bars of the step's parts per run: measured (solid) and predicted (hatched, beside it).
    static func breakdown(_ runs: [ScalingRun], prediction: ScalingPrediction?) -> String {
        let (width, height, left, bottom, top) = (max(480.0, 60 + Double(runs.count) * 90 + 160), 320.0, 60.0, 40.0, 30.0)
        let stacks = runs.map { run in (run.ranks, ScalingRun.parts.map { run.seconds[$0] ?? 0 }, prediction.map { p in ScalingRun.parts.map { p.parts(ranks: run.ranks)[$0] ?? 0 } }) }
        let maxY = max(stacks.flatMap { [$0.1.reduce(0, +), ($0.2 ?? []).reduce(0, +)] }.max() ?? 1, 1e-9) * 1.1
        func y(_ v: Double) -> Double { height - bottom - v / maxY * (height - bottom - top) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"Step time breakdown\">\n"
        svg += "<text x=\"\(left)\" y=\"18\" font-weight=\"bold\">Seconds per step by part (left: measured, right: predicted)</text>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - 160)\" y2=\"\(height - bottom)\" stroke=\"#333\"/>\n"
        for i in 0...4 {
            let v = maxY * Double(i) / 4
            svg += "<text x=\"\(left - 6)\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(String(format: "%.2f", v))</text>"
        }
        for (i, stack) in stacks.enumerated() {
            let x0 = left + 20 + Double(i) * 90
            for (column, values) in [(0, stack.1), (1, stack.2)] {
                guard let values else { continue }
                var base = 0.0
                for (part, v) in zip(ScalingRun.parts, values) where v > 0 {
                    svg += "<rect class=\"\(column == 0 ? "measured" : "predicted")-part\" x=\"\(f(x0 + Double(column) * 32))\" y=\"\(f(y(base + v)))\" width=\"28\" height=\"\(f(y(base) - y(base + v)))\" fill=\"\(colours[part] ?? "#ccc")\" fill-opacity=\"\(column == 0 ? 1 : 0.45)\"><title>\(stack.0) ranks, \(column == 0 ? "measured" : "predicted") \(part): \(String(format: "%.4g", v)) s</title></rect>\n"
                    base += v
                }
            }
            svg += "<text x=\"\(f(x0 + 30))\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\">\(stack.0) ranks</text>\n"
        }
        for (i, part) in ScalingRun.parts.enumerated() {
            let ly = top + Double(i) * 18
            svg += "<g class=\"legend\"><rect x=\"\(width - 150)\" y=\"\(f(ly))\" width=\"12\" height=\"12\" fill=\"\(colours[part] ?? "#ccc")\"/><text x=\"\(width - 132)\" y=\"\(f(ly + 10))\">\(part)</text></g>\n"
        }
        return svg + "</svg>"
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v.isFinite ? v : 0) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
