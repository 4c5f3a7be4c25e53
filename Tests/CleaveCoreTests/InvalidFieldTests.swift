import Testing
import CleaveCore

/// The one renaming of `` `field` `` spans and the one `invalidField` rule every module's option
/// errors share (issue 24 items 1 and 2).
@Suite struct InvalidFieldTests {
    enum OptionalValueError: FieldNamingError {
        case invalidOption(field: String, value: String?, reason: String)
        case other(reason: String)
        case threeOtherParts(path: String, value: String?, reason: String)
        var description: String { "" }
    }

    enum PlainValueError: FieldNamingError {
        case invalidValue(field: String, value: String, reason: String)
        case none
        var description: String { "" }
    }

    struct OwnField: FieldNamingError {
        var invalidField: InvalidField? { InvalidField(field: "own", value: nil, reason: "r") }
        var description: String { "" }
    }

    @Test func renamingReplacesEverySpan() {
        let upper = { (field: String) in field.uppercased() }
        #expect(InvalidField.renamingFields(in: "no fields", upper) == "no fields")
        #expect(InvalidField.renamingFields(in: "`a` and `bc` differ", upper) == "A and BC differ")
        #expect(InvalidField.renamingFields(in: "``", upper) == "")
        #expect(InvalidField.renamingFields(in: "ends `open", upper) == "ends `open")
        #expect(InvalidField.renamingFields(in: "`x``y`", upper) == "XY")
        #expect(InvalidField.renamingFields(in: "`a` then `b", upper) == "A then `b")
    }

    @Test func renamedSaysFieldAndReasonInTheFrontEndsWords() {
        let field = InvalidField(field: "clusterCount", value: "0", reason: "must be at least 1 (see `windowSize`)")
        let renamed = field.renamed { "--" + $0 }
        #expect(renamed == InvalidField(field: "--clusterCount", value: "0", reason: "must be at least 1 (see --windowSize)"))
        #expect(renamed.description == "--clusterCount 0: must be at least 1 (see --windowSize)")
        #expect(InvalidField(field: "f", value: nil, reason: "r").renamed { $0 }.description == "f: r")
    }

    @Test func defaultInvalidFieldReadsTheFieldCase() {
        #expect(OptionalValueError.invalidOption(field: "f", value: "v", reason: "r").invalidField
                == InvalidField(field: "f", value: "v", reason: "r"))
        #expect(OptionalValueError.invalidOption(field: "f", value: nil, reason: "r").invalidField
                == InvalidField(field: "f", value: nil, reason: "r"))
        #expect(OptionalValueError.other(reason: "r").invalidField == nil)
        #expect(OptionalValueError.threeOtherParts(path: "p", value: "v", reason: "r").invalidField == nil)
        #expect(PlainValueError.invalidValue(field: "f", value: "v", reason: "r").invalidField
                == InvalidField(field: "f", value: "v", reason: "r"))
        #expect(PlainValueError.none.invalidField == nil)
        #expect(OwnField().invalidField == InvalidField(field: "own", value: nil, reason: "r"))
        // Through the existential, as the front ends ask.
        let error: any Error = PlainValueError.invalidValue(field: "g", value: "1", reason: "why")
        #expect((error as? any FieldNamingError)?.invalidField?.description == "g 1: why")
    }
}
