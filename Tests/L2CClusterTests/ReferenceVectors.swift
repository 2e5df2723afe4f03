import Foundation
import L2CTensor
import XCTest

/// The float64 reference vectors in ../shared/reference (beside the project's clone).
enum ReferenceVectors {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/reference")

    static func cases(_ file: String) throws -> [[String: Any]] {
        let url = folder.appendingPathComponent(file)
        let data = try Data(contentsOf: url)
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any], "\(url.path) is not a JSON object")
        return try XCTUnwrap(root["cases"] as? [[String: Any]], "\(url.path) has no cases")
    }

    static func matrix(_ value: Any?) -> [[Double]] { (value as! [[NSNumber]]).map { $0.map(\.doubleValue) } }
    static func vector(_ value: Any?) -> [Double] { (value as! [NSNumber]).map(\.doubleValue) }
    static func integers(_ value: Any?) -> [Int] { (value as! [NSNumber]).map(\.intValue) }

    static func tensor(_ rows: [[Double]]) -> Tensor {
        Tensor(shape: [rows.count, rows.first?.count ?? 0], values: rows.joined().map { Float($0) })
    }
}

/// The README's comparison rules: scalars |got − ref| ≤ rel·|ref| + abs; arrays max|got − ref| ≤ rel·max|ref| + abs.
struct Tolerance {
    let scalarRelative: Double, scalarAbsolute: Double, arrayNormwise: Double, arrayAbsolute: Double

    init(_ object: Any?) {
        let t = object as! [String: NSNumber]
        scalarRelative = t["scalar_rel"]!.doubleValue
        scalarAbsolute = t["scalar_abs"]!.doubleValue
        arrayNormwise = t["array_normwise"]!.doubleValue
        arrayAbsolute = t["array_abs"]!.doubleValue
    }

    func assertScalar(_ got: Double, _ expected: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThanOrEqual(abs(got - expected), scalarRelative * abs(expected) + scalarAbsolute,
                                 "\(what): got \(got), expected \(expected)", file: file, line: line)
    }

    func assertArray(_ got: [Float], _ expected: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, expected.count, "\(what): size", file: file, line: line)
        let err = zip(got, expected).map { abs(Double($0) - $1) }.max() ?? 0
        let scale = expected.map(abs).max() ?? 0
        XCTAssertLessThanOrEqual(err, arrayNormwise * scale + arrayAbsolute, "\(what): max error \(err) (scale \(scale))", file: file, line: line)
    }
}
