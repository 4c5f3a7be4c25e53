import Testing
import CleaveCore

/// The one renaming of `` `field` `` spans, and how the front ends read an error's field
/// (issue 24 items 1 and 2).
@Suite struct InvalidFieldTests {
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

    @Test func frontEndsReadTheFieldThroughTheProtocol() {
        // Each error type says its field itself (no default); the front ends ask the existential.
        let error: any Error = OwnField()
        #expect((error as? any FieldNamingError)?.invalidField?.description == "own: r")
        #expect((CleaveError("plain") as any Error) as? any FieldNamingError == nil)
    }
}
