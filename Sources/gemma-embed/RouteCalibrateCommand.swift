import ArgumentParser
import Foundation
import GemmaClassify

/// `gemma-embed route calibrate --routes routes.json`: the leave-one-out precision/recall trade-off
/// and the threshold chosen on it.
struct RouteCalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Hold each example out, route it by the others, and print the precision/recall trade-off and the threshold chosen.",
        discussion: """
        Precision: of the examples routed, the share routed to their own route; recall: of all examples; coverage: \
        the share routed at all. The threshold chosen is the lowest whose precision reaches --target-precision \
        (the best F1 when none does). A threshold in the routes file wins over the calibrated one.
        """
    )

    @OptionGroup var routeOptions: RouteOptions
    @OptionGroup var modelOptions: ModelOptions

    @Flag(name: .long, help: "Print the calibration as one JSON object.")
    var json = false

    func run() throws {
        let router = try routeOptions.router(model: try modelOptions.load())
        let calibration = router.calibration
        let samples = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1].compactMap { calibration.point(coverage: $0) }
        if json {
            func point(_ p: CalibrationPoint) -> [String: Double] {
                ["threshold": p.threshold, "precision": p.precision, "recall": p.recall, "coverage": p.coverage]
            }
            let object: [String: Any] = [
                "examples": calibration.examples, "accuracy": calibration.accuracy, "threshold": calibration.threshold,
                "target_precision": routeOptions.targetPrecision, "chosen": point(calibration.chosen), "curve": samples.map(point),
                "file_threshold": router.routes.threshold as Any? ?? NSNull(), "dimensions": router.dimensions,
                "scoring": routeOptions.scoring.rawValue,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        func percent(_ value: Double) -> String { String(format: "%5.1f %%", value * 100) }
        print("\(calibration.examples) examples in \(router.routes.routes.count) routes, \(router.dimensions) dimensions, \(routeOptions.scoring.rawValue) scoring")
        print("leave-one-out accuracy (every example routed): \(percent(calibration.accuracy))")
        print("threshold   precision   recall   coverage")
        for p in samples {
            print(String(format: "%9.4f   ", p.threshold) + percent(p.precision) + "   " + percent(p.recall) + "   " + percent(p.coverage))
        }
        let chosen = calibration.chosen
        print("chosen: \(String(format: "%.4f", chosen.threshold)) (precision \(percent(chosen.precision)), recall \(percent(chosen.recall)), "
            + "coverage \(percent(chosen.coverage)); the lowest threshold with precision ≥ \(percent(routeOptions.targetPrecision)), else the best F1)")
        if let fixed = router.routes.threshold {
            print("the routes file sets threshold \(fixed), which is used instead")
        }
    }
}
