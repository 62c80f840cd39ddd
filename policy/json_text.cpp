#include "policy/json_text.hpp"

#include <cstdio>
#include <optional>
#include <set>
#include <vector>

#include "policy/error.hpp"
#include "policy/text.hpp"

namespace aj::policy {
namespace {

using json = nlohmann::json;
using DomParser = nlohmann::detail::json_sax_dom_parser<json>;

// Forwards every event to nlohmann's DOM builder while keeping its own stack of open
// containers, so it can refuse deep nesting and repeated keys with a JSON pointer.
class StrictSax {
public:
    StrictSax(json& result, const std::string& source) : dom_(result, true), source_(source) {}

    bool null() { return element() && dom_.null(); }
    bool boolean(bool v) { return element() && dom_.boolean(v); }
    bool number_integer(json::number_integer_t v) { return element() && dom_.number_integer(v); }
    bool number_unsigned(json::number_unsigned_t v) { return element() && dom_.number_unsigned(v); }
    bool number_float(json::number_float_t v, const json::string_t& s) {
        return element() && dom_.number_float(v, s);
    }
    bool string(json::string_t& v) { return element() && dom_.string(v); }
    bool binary(json::binary_t& v) { return element() && dom_.binary(v); }

    bool start_object(std::size_t n) { return open(true) && dom_.start_object(n); }
    bool end_object() { frames_.pop_back(); return dom_.end_object(); }
    bool start_array(std::size_t n) { return open(false) && dom_.start_array(n); }
    bool end_array() { frames_.pop_back(); return dom_.end_array(); }

    bool key(json::string_t& k) {
        Frame& f = frames_.back();
        if (!f.keys.insert(k).second)
            throw Error(source_ + ": " + pointer(frames_.size() - 1) + "/" + pointer_token(k) +
                        ": duplicate key");
        f.current = k;
        return dom_.key(k);
    }

    bool parse_error(std::size_t position, const std::string& /*last_token*/,
                     const nlohmann::detail::exception& ex) {
        error_position_ = position;
        error_text_ = ex.what();
        return false;
    }

    std::optional<std::size_t> error_position() const { return error_position_; }
    const std::string& error_text() const { return error_text_; }

private:
    struct Frame {
        bool object;
        std::set<std::string> keys;
        std::string current;   // last key, for objects
        long index = -1;       // last element, for arrays
    };

    // A new value begins: inside an array it is the next element.
    bool element() {
        if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
        return true;
    }
    bool open(bool object) {
        element();
        if (frames_.size() >= kMaxPolicyDepth)
            throw Error(source_ + ": " + pointer(frames_.size()) + ": nested deeper than " +
                        std::to_string(kMaxPolicyDepth) + " levels");
        frames_.push_back(Frame{object, {}, {}, -1});
        return true;
    }
    // The pointer to the value currently open in frame `count - 1`.
    std::string pointer(std::size_t count) const {
        std::string p;
        for (std::size_t i = 0; i < count; ++i) {
            const Frame& f = frames_[i];
            p += "/" + (f.object ? pointer_token(f.current) : std::to_string(f.index));
        }
        return p;
    }

    DomParser dom_;
    const std::string& source_;
    std::vector<Frame> frames_;
    std::optional<std::size_t> error_position_;
    std::string error_text_;
};

// nlohmann's message after its "[json.exception...] parse error at ...: " prefix,
// with anything unprintable escaped (it quotes the offending input).
std::string syntax_problem(const std::string& what) {
    auto at = what.find("syntax error");
    std::string tail = at == std::string::npos ? what : what.substr(at);
    std::string quoted = quote(tail, 200);
    return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

std::string pointer_token(std::string_view key) {
    std::string out;
    for (unsigned char c : key.substr(0, 100)) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else out += static_cast<char>(c);
    }
    if (key.size() > 100) out += "...";
    return out;
}

json read_json_text(std::string_view text, const std::string& source) {
    if (text.size() > kMaxPolicyBytes)
        throw Error(source + ": policy is " + std::to_string(text.size()) +
                    " bytes, more than the limit of " + std::to_string(kMaxPolicyBytes));
    json result;
    StrictSax sax(result, source);
    bool ok = json::sax_parse(text, &sax, json::input_format_t::json, /*strict=*/true);
    if (ok) return result;

    // nlohmann counts bytes read; the offending byte is the last one read.
    std::size_t pos = sax.error_position().value_or(text.size());
    std::size_t offset = pos == 0 ? 0 : std::min(pos - 1, text.size());
    std::size_t line = 1, line_start = 0;
    for (std::size_t i = 0; i < offset; ++i) {
        if (text[i] == '\n') {
            ++line;
            line_start = i + 1;
        }
    }
    std::size_t column = offset - line_start + 1;
    throw Error(source + ": not valid JSON at line " + std::to_string(line) + ", column " +
                std::to_string(column) + ": " + syntax_problem(sax.error_text()));
}

}  // namespace aj::policy
