import Testing
import CleaveCore
import CleaveNeural
import CleaveObjects
import CleavePipelines

/// Every module's option error says its field (``FieldNamingError/invalidField``, written out per
/// error type), and its other cases are not about a field (issue 24 item 2).
@Suite struct FieldErrorTests {
    static let expected = InvalidField(field: "f", value: "v", reason: "r")

    @Test func fieldCasesGiveTheirField() {
        let errors: [any FieldNamingError] = [
            NeuralError.invalidOption(field: "f", value: "v", reason: "r"),
            ObjectsPipelineError.invalidOption(field: "f", value: "v", reason: "r"),
            LithologyError.invalidOption(field: "f", value: "v", reason: "r"),
            SlurmJobError.invalidValue(field: "f", value: "v", reason: "r"),
            SampleError.invalidOption(field: "f", value: "v", reason: "r"),
            UNetError.invalidConfiguration(field: "f", value: "v", reason: "r"),
            ObjectsError.invalidParameter(field: "f", value: "v", reason: "r"),
        ]
        for error in errors { #expect(error.invalidField == Self.expected, "\(type(of: error))") }
        #expect(NeuralError.invalidOption(field: "f", value: nil, reason: "r").invalidField
                == InvalidField(field: "f", value: nil, reason: "r"))
    }

    @Test func otherCasesAreNotAboutAField() {
        let errors: [any FieldNamingError] = [
            NeuralError.noTrainingImages, NeuralError.unusableInput(source: "s", reason: "r"),
            ObjectsPipelineError.cannotTrain(reason: "r"),
            ObjectsPipelineError.invalidTrainingFile(path: "p", line: 2, reason: "r"),
            LithologyError.notEnoughTraining(reason: "r"),
            SlurmJobError.unreadableJobID(output: "o"),
            UNetError.exportMissingArray(array: "a", expected: "e"),
            ObjectsError.invalidLabelImage(reason: "r"),
            ObjectsError.invalidRule(rule: 1, text: "t", reason: "r"),
        ]
        for error in errors { #expect(error.invalidField == nil, "\(error)") }
    }
}
