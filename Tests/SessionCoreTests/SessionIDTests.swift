import SessionCore
import Testing

@Suite("Session ids")
struct SessionIDTests {
    @Test func randomIdsAreVersion4InCanonicalLowercaseForm() {
        for _ in 0..<1000 {
            let text = SessionID.random().description
            #expect(text.count == 36)
            let chars = Array(text)
            #expect(chars[8] == "-" && chars[13] == "-" && chars[18] == "-" && chars[23] == "-")
            #expect(chars[14] == "4", "version nibble of \(text)")
            #expect("89ab".contains(chars[19]), "variant nibble of \(text)")
            #expect(text.allSatisfy { "0123456789abcdef-".contains($0) })
        }
    }

    @Test func randomIdsDoNotRepeat() {
        var seen = Set<SessionID>()
        for _ in 0..<10_000 { seen.insert(.random()) }
        #expect(seen.count == 10_000)
    }

    @Test func parsesWhatItPrints() {
        for _ in 0..<100 {
            let id = SessionID.random()
            #expect(SessionID(id.description) == id)
        }
        #expect(SessionID("1b4e28ba-2fa1-41d2-883f-0016d3cca427")?.description == "1b4e28ba-2fa1-41d2-883f-0016d3cca427")
    }

    @Test(arguments: [
        "", "abc", "1B4E28BA-2FA1-41D2-883F-0016D3CCA427", "{1b4e28ba-2fa1-41d2-883f-0016d3cca427}",
        "1b4e28ba2fa141d2883f0016d3cca427", "1b4e28ba-2fa1-41d2-883f-0016d3cca42", "1b4e28ba-2fa1-41d2-883f-0016d3cca4277",
        "1b4e28ba-2fa1-41d2-883f_0016d3cca427", "1b4e28ba-2fa1-41d2-883f-0016d3cca42g", "1b4e28ba--fa1-41d2-883f-0016d3cca427",
        " 1b4e28ba-2fa1-41d2-883f-0016d3cca427", "1b4e28ba-2fa1-41d2-883f-0016d3cca42é",
    ])
    func rejectsAnythingButTheCanonicalForm(text: String) {
        #expect(SessionID(text) == nil)
    }
}
