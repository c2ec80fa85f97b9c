import EmbeddingGemma
import Foundation
let t0 = Date()
let tok = try GemmaTokenizer(contentsOf: CommandLine.arguments[1])
FileHandle.standardError.write("load \(Date().timeIntervalSince(t0))\n".data(using: .utf8)!)
let lines = try String(contentsOfFile: CommandLine.arguments[2], encoding: .utf8).split(separator: "\n")
var ok = 0, bad = 0
let t1 = Date()
for line in lines {
  let obj = try JSONSerialization.jsonObject(with: line.data(using: .utf8)!) as! [String: Any]
  let text = obj["text"] as! String
  var prompt = (obj["prompt"] as? String) ?? ""
  let ids = (obj["input_ids"] as! [Int])
  var got = tok.encode(prompt + text)
  if got.count > 2048 { got = Array(got[0..<2047]) + [1] }
  if got == ids { ok += 1 } else { bad += 1; if bad < 6 { print("MISMATCH", text.prefix(80).debugDescription, got.prefix(30), ids.prefix(30)) } }
}
print("ok \(ok) bad \(bad) time \(Date().timeIntervalSince(t1))")
