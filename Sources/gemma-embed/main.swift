import EmbeddingGemma
import Foundation
let t0 = Date()
let model = try EmbeddingModel()
print("load", Date().timeIntervalSince(t0))
let q = try model.encodeQuery("Which planet is known as the Red Planet?")
let docs = try model.encodeDocument(["Venus is often called Earth's twin because of its similar size and proximity.", "Mars, known for its reddish appearance, is often referred to as the Red Planet.", "Jupiter, the largest planet in our solar system, has a prominent red spot.", "Saturn, famous for its rings, is sometimes mistaken for the red planet."])
print(try model.similarity([q], docs))
let lines = try String(contentsOfFile: "/work/shared/golden/corpus.jsonl", encoding: .utf8).split(separator: "\n")
var texts: [String] = [], prompts: [Prompt] = [], refs: [[Float]] = []
for line in lines {
  let obj = try JSONSerialization.jsonObject(with: line.data(using: .utf8)!) as! [String: Any]
  texts.append(obj["text"] as! String)
  prompts.append(.literal((obj["prompt"] as? String) ?? ""))
  let d = Data(base64Encoded: obj["embedding_b64"] as! String)!
  refs.append(d.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) })
}
let t1 = Date()
let embs = try model.embed(texts, prompts: prompts)
print("corpus time", Date().timeIntervalSince(t1))
var worst: Float = 1
for (i, e) in embs.enumerated() { let c = try model.similarity([e.vector], [refs[i]])[0][0]; if c < worst { worst = c }; if c < 0.99999 { print("LOW", i, e.tokenCount, c) } }
print("worst", worst)
