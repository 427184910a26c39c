// RFC 7396 merge patch (JSONMergePatch.apply) as the store uses it: both texts validated and
// compact. The input is `target NUL patch` (a raw NUL byte is never part of a JSON text).
// Properties, when both halves are JSON:
// - the result equals the reference MergePatch (FuzzSupport/ReferenceJSON.mergePatch): members
//   kept in place, new ones last, null removes, objects merge recursively, others replace;
// - the result is compact JSON that parses and writes back to the same bytes;
// - applying the same patch again changes nothing (an RFC 7396 patch is idempotent);
// - the result nests no deeper than the deeper of target and patch (so `--max-data-depth` holds
//   for merged data without a second check).
// Whatever the halves are, `apply` returns (no crash) on them as given.
import FuzzSupport
import JSONDocument

let maxDepth = 33  // --max-data-depth 32 and the body around `data`

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    guard let split = bytes.firstIndex(of: 0) else { return 0 }
    let rawTarget = Array(bytes[..<split])
    let rawPatch = Array(bytes[(split + 1)...])
    _ = JSONMergePatch.apply(rawPatch, to: rawTarget)

    guard let targetDocument = try? JSONDocument.parse(rawTarget, maxDepth: maxDepth),
          let patchDocument = try? JSONDocument.parse(rawPatch, maxDepth: maxDepth)
    else { return 0 }
    let target = targetDocument.value.compactJSON()
    let patch = patchDocument.value.compactJSON()
    guard case let .success(targetTree) = ReferenceJSON.parse(target, maxDepth: maxDepth).result,
          case let .success(patchTree) = ReferenceJSON.parse(patch, maxDepth: maxDepth).result
    else {
        fatalError("fuzz property violated: the reference refuses compact JSON \(show(target)) or \(show(patch))")
    }

    let merged = JSONMergePatch.apply(patch, to: target)
    let expectedTree = ReferenceJSON.mergePatch(patchTree, into: targetTree)
    let expected = ReferenceJSON.compact(expectedTree)
    require(merged == expected, "merge of \(show(patch)) into \(show(target)) gave \(show(merged)), RFC 7396 gives \(show(expected))")

    let loose = max(maxDepth, ReferenceJSON.depth(expectedTree) + 1)
    do {
        let reread = try JSONDocument.parse(merged, maxDepth: loose).value.compactJSON()
        require(reread == merged, "the merge result is not compact: \(show(merged)) reads back as \(show(reread))")
    } catch {
        fatalError("fuzz property violated: the merge result \(show(merged)) is not JSON: \(error)")
    }

    let again = JSONMergePatch.apply(patch, to: merged)
    require(again == merged, "not idempotent: \(show(patch)) on \(show(merged)) gave \(show(again))")

    let depth = ReferenceJSON.depth(expectedTree)
    let bound = max(ReferenceJSON.depth(targetTree), ReferenceJSON.depth(patchTree))
    require(depth <= bound, "the merge nests \(depth) levels, target and patch at most \(bound)")
    return 0
}
