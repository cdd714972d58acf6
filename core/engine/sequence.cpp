// core/engine/sequence.cpp — out-of-line special members of Sequence (where IncrementalDetokenizer is complete).
#include "engine/sequence.h"

#include "tokenizer/tokenizer.h"

namespace llmatc::engine {

Sequence::Sequence() = default;
Sequence::~Sequence() = default;
Sequence::Sequence(Sequence&&) noexcept = default;
Sequence& Sequence::operator=(Sequence&&) noexcept = default;

}  // namespace llmatc::engine
