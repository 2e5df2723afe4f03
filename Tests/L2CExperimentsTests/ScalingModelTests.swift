import L2CBench
import L2CData
import L2CExperiments
import L2CRun
import XCTest

/// The Hockney model and the step-time prediction built on it.
final class ScalingModelTests: XCTestCase {
    func testTheFitRecoversLatencyAndBandwidthOfARingAllReduce() {
        let truth = HockneyModel(alpha: 20e-6, beta: 1 / 1.25e9)   // 20 µs, 10 Gbit/s
        let samples = [1024.0, 65536, 1_048_576, 16_777_216, 268_435_456].map { n in (bytes: n, seconds: truth.seconds(.allReduce, bytes: n, ranks: 4)) }
        let fitted = HockneyModel.fit(samples, collective: .allReduce, ranks: 4)
        XCTAssertEqual(fitted.alpha, truth.alpha, accuracy: 1e-9)
        XCTAssertEqual(fitted.beta, truth.beta, accuracy: 1e-15)
    }

    func testRingFormulas() {
        let m = HockneyModel(alpha: 1e-6, beta: 1e-9)
        // all-reduce: 2(p−1)·α + 2(p−1)/p · n·β; all-gather: (p−1)·α + (p−1)/p · n·β
        XCTAssertEqual(m.seconds(.allReduce, bytes: 1e6, ranks: 4), 6e-6 + 1.5e-3, accuracy: 1e-12)
        XCTAssertEqual(m.seconds(.allGather, bytes: 1e6, ranks: 4), 3e-6 + 0.75e-3, accuracy: 1e-12)
        XCTAssertEqual(m.seconds(.allReduce, bytes: 1e6, ranks: 1), 0, "nothing to exchange on one rank")
        XCTAssertEqual(m.seconds(.pingPong, bytes: 1e6, ranks: 2), 1e-6 + 1e-3, accuracy: 1e-12)
    }

    private func baseline() -> ScalingRun {
        ScalingRun(bench: ["ranks": 1, "threads": 1, "batch_size": 32, "images_per_sec": 32.0, "step_seconds_median": 1.0,
                           "parameters": 10_000_000, "batchnorm_layers": 0, "forward_seconds": 0.3, "loss_seconds": 0.0,
                           "backward_seconds": 0.6, "optimizer_seconds": 0.1], hosts: 1)!
    }

    func testOverlapHidesTheAllReduceUpToTheBackwardPass() {
        // 40 MB over 1 GB/s on 2 ranks: 2·1/2·40e6 B · 1e-9 s/B = 40 ms, well inside 0.6 s of backward.
        let network = CommModelReport(ranks: 2, hosts: 2, models: [.allReduce: HockneyModel(alpha: 0, beta: 1e-9)])
        let overlapped = ScalingPrediction(baseline: baseline(), network: network, mode: .weak, overlap: true)
        XCTAssertEqual(overlapped.parts(ranks: 2)["allreduce"]!, 0.04, accuracy: 1e-9)
        XCTAssertEqual(overlapped.parts(ranks: 2)["allreduce_exposed"]!, 0)
        XCTAssertEqual(overlapped.stepSeconds(ranks: 2), 1.0, accuracy: 1e-9)
        let blocking = ScalingPrediction(baseline: baseline(), network: network, mode: .weak, overlap: false)
        XCTAssertEqual(blocking.stepSeconds(ranks: 2), 1.04, accuracy: 1e-9)
        // Strong scaling halves the compute per rank; the all-reduce stays.
        let strong = ScalingPrediction(baseline: baseline(), network: network, mode: .strong, overlap: false)
        XCTAssertEqual(strong.stepSeconds(ranks: 2), 0.45 + 0.1 + 0.04, accuracy: 1e-9)
    }

    func testRanksCrowdingSharedCoresSlowTheirCompute() {
        let network = CommModelReport(ranks: 2, hosts: 2, models: [.allReduce: HockneyModel(alpha: 0, beta: 0)])
        let fakeHosts = ScalingPrediction(baseline: baseline(), network: network, mode: .weak, overlap: true, sharedCores: 2)
        XCTAssertEqual(fakeHosts.stepSeconds(ranks: 2), 1.0, accuracy: 1e-9)
        XCTAssertEqual(fakeHosts.stepSeconds(ranks: 4), 0.9 * 2 + 0.1, accuracy: 1e-9, "4 ranks on 2 cores: twice the compute time")
    }

    func testEfficiencyIsThroughputPerRankAgainstTheSmallestRun() {
        var study = ScalingStudy(model: "resnet18", imageSize: 32, mode: .weak, overlap: true)
        study.runs = [baseline()]
        XCTAssertEqual(study.efficiency(imagesPerSecond: 60, ranks: 2), 60.0 / 2 / 32, accuracy: 1e-12)
        XCTAssertTrue(study.csv().hasPrefix("model,image_size,mode,ranks,hosts,threads,batch_per_rank,global_batch,images_per_sec,efficiency,"))
    }
}
