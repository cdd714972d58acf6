// tests/core/tokenizer/reference_cli.cpp — runs the tokenizer and chat templates on JSON batches for the Python
// comparison against transformers (compare_with_transformers.py).
//
//   reference_cli chat TEMPLATE_FILE CASES_JSON   cases: [{messages, add_generation_prompt, bos_token, eos_token}]
//                                                 prints [{"text": ...} | {"error": ...}]
//   reference_cli encode MODEL_DIR TEXTS_JSON     texts: ["...", ...]; prints [[ids without BOS/EOS], ...]
#include <fstream>
#include <iostream>
#include <sstream>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open");
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

rapidjson::Document read_json(const std::string& path) {
    rapidjson::Document doc;
    const std::string text = read_file(path);
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError() || !doc.IsArray()) throw std::runtime_error(path + ": expected a JSON array");
    return doc;
}

int run_chat(const std::string& template_path, const std::string& cases_path) {
    const std::string tmpl = read_file(template_path);
    auto cases = read_json(cases_path);
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> w(out);
    w.StartArray();
    for (const auto& c : cases.GetArray()) {
        w.StartObject();
        try {
            const std::string text = llmatc::render_chat_template(
                tmpl, c["messages"], c["add_generation_prompt"].GetBool(), c["bos_token"].GetString(),
                c["eos_token"].GetString());
            w.Key("text");
            w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
        } catch (const llmatc::Error& e) {
            w.Key("error");
            w.String(e.what());
        }
        w.EndObject();
    }
    w.EndArray();
    std::cout << out.GetString() << "\n";
    return 0;
}

int run_encode(const std::string& model_dir, const std::string& texts_path) {
    auto tokenizer = llmatc::Tokenizer::load(model_dir);
    auto texts = read_json(texts_path);
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> w(out);
    w.StartArray();
    for (const auto& t : texts.GetArray()) {
        w.StartArray();
        for (int32_t id : tokenizer->encode(std::string_view(t.GetString(), t.GetStringLength()), false)) w.Int(id);
        w.EndArray();
    }
    w.EndArray();
    std::cout << out.GetString() << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string command = argc > 1 ? argv[1] : "";
        if (argc == 4 && command == "chat") return run_chat(argv[2], argv[3]);
        if (argc == 4 && command == "encode") return run_encode(argv[2], argv[3]);
        std::cerr << "usage: reference_cli chat TEMPLATE_FILE CASES_JSON | encode MODEL_DIR TEXTS_JSON\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "reference_cli: " << e.what() << "\n";
        return 1;
    }
}
