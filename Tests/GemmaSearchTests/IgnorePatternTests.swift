import XCTest
@testable import GemmaSearch

final class IgnorePatternTests: XCTestCase {
    private func ignored(_ rules: String, _ path: String, directory: Bool = false) -> Bool {
        IgnoreRules().adding(relativeFolder: "", contents: [rules]).ignores(relativePath: path, isDirectory: directory)
    }

    func testNamesMatchAtAnyDepth() {
        XCTAssertTrue(ignored("*.log", "a.log"))
        XCTAssertTrue(ignored("*.log", "deep/down/b.log"))
        XCTAssertFalse(ignored("*.log", "a.log.txt"))
        XCTAssertTrue(ignored("build", "x/build", directory: true))
    }

    func testAnchoredAndDirectoryOnly() {
        XCTAssertTrue(ignored("/out", "out", directory: true))
        XCTAssertFalse(ignored("/out", "src/out", directory: true))
        XCTAssertTrue(ignored("docs/*.md", "docs/a.md"))
        XCTAssertFalse(ignored("docs/*.md", "docs/sub/a.md"))
        XCTAssertTrue(ignored("cache/", "cache", directory: true))
        XCTAssertFalse(ignored("cache/", "cache", directory: false))
    }

    func testDoubleStarAndClasses() {
        XCTAssertTrue(ignored("a/**/z.txt", "a/z.txt"))
        XCTAssertTrue(ignored("a/**/z.txt", "a/b/c/z.txt"))
        XCTAssertFalse(ignored("a/**/z.txt", "b/a/z.txt"))
        XCTAssertTrue(ignored("**/tmp", "x/y/tmp", directory: true))
        XCTAssertFalse(ignored("**/tmp", "x/ytmp", directory: true))
        XCTAssertTrue(ignored("file[0-9].txt", "file7.txt"))
        XCTAssertFalse(ignored("file[!0-9].txt", "file7.txt"))
        XCTAssertTrue(ignored("?.c", "a.c"))
        XCTAssertFalse(ignored("?.c", "ab.c"))
    }

    func testNegationAndComments() {
        let rules = "# comment\n*.txt\n!keep.txt\n\n"
        XCTAssertTrue(ignored(rules, "drop.txt"))
        XCTAssertFalse(ignored(rules, "keep.txt"))
        XCTAssertFalse(ignored(rules, "# comment"))
    }

    func testNestedRulesApplyBelowTheirFolder() {
        let rules = IgnoreRules().adding(relativeFolder: "", contents: ["*.o"]).adding(relativeFolder: "sub", contents: ["/gen\n!x.o"])
        XCTAssertTrue(rules.ignores(relativePath: "a.o", isDirectory: false))
        XCTAssertFalse(rules.ignores(relativePath: "sub/x.o", isDirectory: false))
        XCTAssertTrue(rules.ignores(relativePath: "sub/gen", isDirectory: true))
        XCTAssertFalse(rules.ignores(relativePath: "gen", isDirectory: true))
    }
}
