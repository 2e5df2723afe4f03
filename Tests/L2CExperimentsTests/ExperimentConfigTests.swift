import Foundation
import L2CBench
import L2CComm
import L2CData
import L2CExperiments
import L2CRun
import L2CTensor
import XCTest

/// What a run derives from its config, field by field: the fingerprint the ranks agree on, and which fields a
/// resumed run may change. Each config's decision is spelt out here, so that a new field fails this test until
/// someone decides whether it may change on --resume.
final class ExperimentConfigTests: XCTestCase {
    /// The fields each command's config lets change on resume: the length, where it writes, the run policy,
    /// and what is only scored.
    func testEachConfigLetsOnlyLengthOutputPolicyAndScoringChangeOnResume() {
        let length = ["steps", "epochs", "defaultEpochs", "stepBudget", "logEvery"]
        func lengthOf(_ parent: String) -> Set<String> { Set(length.map { "\(parent).\($0)" }) }
        var train = TrainingConfig(data: "d")
        (train.testData, train.out) = ("t", "o")
        train.optimization.steps = 5
        train.optimization.epochs = 1
        XCTAssertEqual(changeable(train), Set(["testData", "out", "evaluate", "decodeWorkers", "badImages", "runPolicy"]).union(lengthOf("optimization")))

        var transfer = TransferConfig(data: "d")
        transfer.out = "o"
        (transfer.training.spnOptimization.steps, transfer.training.spnOptimization.epochs) = (1, 1)
        (transfer.training.clusterOptimization.steps, transfer.training.clusterOptimization.epochs) = (1, 1)
        XCTAssertEqual(changeable(transfer), Set(["minimumShare", "out", "runPolicy"]).union(lengthOf("training.spnOptimization"))
            .union(lengthOf("training.clusterOptimization")))

        var alphabets = AlphabetTransferConfig(root: "r")
        alphabets.out = "o"
        XCTAssertEqual(changeable(alphabets), Set(["minimumShare", "out", "runPolicy", "training.spnOptimization.defaultEpochs",
                                                   "training.spnOptimization.stepBudget", "training.spnOptimization.logEvery",
                                                   "training.clusterOptimization.defaultEpochs", "training.clusterOptimization.stepBudget",
                                                   "training.clusterOptimization.logEvery"]))

        var spn = SPNTrainingConfig(data: "d")
        spn.out = "o"
        XCTAssertEqual(changeable(spn), ["out", "runPolicy", "optimization.defaultEpochs", "optimization.stepBudget", "optimization.logEvery"])

        var acol = ACOLConfig(data: "d")
        acol.out = "o"
        XCTAssertEqual(changeable(acol), ["out", "runPolicy", "optimization.defaultEpochs", "optimization.stepBudget", "optimization.logEvery"])

        var adapt = AdaptConfig(source: "s", target: "t")
        adapt.out = "o"
        XCTAssertEqual(changeable(adapt), ["out", "runPolicy", "optimization.defaultEpochs", "optimization.stepBudget", "optimization.logEvery",
                                           "spnOptimization.defaultEpochs", "spnOptimization.stepBudget", "spnOptimization.logEvery"])
    }

    /// Every setting that shapes the trajectory is fixed: the data, the network, the loss, the optimiser, the
    /// seed, the augmentation, and the precision (bf16 and fp32 runs differ from the first step).
    func testTrajectoryFieldsAreFixedOnResume() {
        var config = TrainingConfig(data: "data/mnist5k")
        config.optimization.precision = .bf16
        config.optimization.augmentation = try! SampleAugmentation(parsing: "affine,flip")
        let fixed = config.fixedOnResume
        XCTAssertEqual(fixed["data"], FileManager.default.currentDirectoryPath + "/data/mnist5k")
        XCTAssertEqual(fixed["model"], "lenet")
        XCTAssertEqual(fixed["loss"], "kcl")
        XCTAssertEqual(fixed["clusters"], "10")
        XCTAssertEqual(fixed["imageSize"], "224")
        XCTAssertEqual(fixed["optimization.precision"], "bf16")
        XCTAssertEqual(fixed["optimization.augmentation"], "affine,flip")
        XCTAssertEqual(fixed["optimization.seed"], "1")
        XCTAssertEqual(fixed["optimization.learningRate"], "0.001")
        XCTAssertEqual(fixed["optimization.globalBatch"], "100")
        XCTAssertEqual(fixed["optimization.synchronizedBatchNorm"], "true")
        XCTAssertNil(fixed["optimization.steps"])
        XCTAssertNil(fixed["labelColumn"], "an option not given is not a field")
    }

    /// Paths are compared as absolute paths: a run resumed from another working folder names the same data.
    func testPathsAreRecordedAbsoluteButKeepTheUsersSpelling() {
        var config = TransferConfig(data: "data/../data/mnist5k")
        config.spnCheckpoint = "/tmp/./runs/spn.safetensors"
        XCTAssertEqual(config.data, "data/../data/mnist5k")
        XCTAssertEqual(config.fields["data"], FileManager.default.currentDirectoryPath + "/data/mnist5k")
        XCTAssertEqual(config.fields["spnCheckpoint"], "/tmp/runs/spn.safetensors")
    }

    /// The fingerprint the ranks agree on changes with every field, also those that may change on resume; the run
    /// policy, which the ranks agree on separately, is not in it.
    func testFingerprintChangesWithEveryField() {
        let base = AdaptConfig(source: "s", target: "t")
        var variants: [AdaptConfig] = []
        for change in [{ (c: inout AdaptConfig) in c.domainWeight = 0.5 }, { $0.optimization.steps = 3 }, { $0.out = "o" },
                       { $0.method = .dann }, { $0.spnOptimization.precision = .auto }] {
            var variant = base
            change(&variant)
            variants.append(variant)
        }
        XCTAssertEqual(Set(([base] + variants).map(\.fingerprint)).count, 1 + variants.count)
        var otherPolicy = base
        otherPolicy.runPolicy.keep = 3
        XCTAssertEqual(otherPolicy.fingerprint, base.fingerprint)
    }

    /// A state's fixed field that differs on resume is refused, naming the option it comes from.
    func testAChangedFieldIsNamedAsItsOption() {
        XCTAssertEqual(RunSession.optionName(field: "optimization.seed"), "--seed")
        XCTAssertEqual(RunSession.optionName(field: "loss"), "--loss")
        XCTAssertEqual(RunSession.optionName(field: "optimization.globalBatch"), "--batch-size")
        XCTAssertEqual(RunSession.optionName(field: "imageSize"), "--image-size")
        XCTAssertEqual(RunSession.optionName(field: "training.spnOptimization.learningRate"), "--lr (training.spn-optimization)")
    }

    private func changeable<Config: ExperimentConfig>(_ config: Config) -> Set<String> {
        Set(config.fields.keys).subtracting(config.fixedOnResume.keys)
    }
}
