//===- AttnEnums.td - Enumerated attributes of attn ops ----*- tablegen -*-===//
//
// Kinds that an op's assembly prints as a leading keyword (`attn.reduce sum`)
// are I32EnumAttrs: their getters return the C++ enum. `rel` lives in the
// attribute dictionary, so it is a StrEnumAttr there (`rel = "le"`); its
// getter returns the string and getRelKind() the enum.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_ENUMS_TD
#define ATTN_ENUMS_TD

include "mlir/IR/OpBase.td"

class Attn_I32Enum<string name, string summary, list<I32EnumAttrCase> cases>
    : I32EnumAttr<name, summary, cases> {
  let cppNamespace = "::mlir::attn";
}

class Attn_StrEnum<string name, string summary, list<string> keywords>
    : StrEnumAttr<name, summary,
                  !foreach(kw, keywords, StrEnumAttrCase<kw>)> {
  let cppNamespace = "::mlir::attn";
}

def Attn_UnaryFnAttr : Attn_I32Enum<"UnaryFn", "elementwise unary function", [
    I32EnumAttrCase<"neg", 0>, I32EnumAttrCase<"exp", 1>,
    I32EnumAttrCase<"log", 2>, I32EnumAttrCase<"sqrt", 3>,
    I32EnumAttrCase<"rsqrt", 4>, I32EnumAttrCase<"tanh", 5>,
    I32EnumAttrCase<"sigmoid", 6>, I32EnumAttrCase<"relu", 7>,
    I32EnumAttrCase<"leaky_relu", 8>, I32EnumAttrCase<"abs", 9>,
    I32EnumAttrCase<"step", 10>]>;

def Attn_ReduceKindAttr : Attn_I32Enum<"ReduceKind", "reduction kind", [
    I32EnumAttrCase<"sum", 0>, I32EnumAttrCase<"mean", 1>,
    I32EnumAttrCase<"max", 2>, I32EnumAttrCase<"min", 3>]>;

def Attn_AlignModeAttr : Attn_I32Enum<"AlignMode", "alignment mode", [
    I32EnumAttrCase<"soft", 0>, I32EnumAttrCase<"hard", 1>]>;

def Attn_ScoreKindAttr : Attn_I32Enum<"ScoreKind", "attention score function", [
    I32EnumAttrCase<"dot", 0>, I32EnumAttrCase<"scaled_dot", 1>,
    I32EnumAttrCase<"general", 2>, I32EnumAttrCase<"additive", 3>]>;

def Attn_CombineModeAttr : Attn_I32Enum<"CombineMode",
    "how attention heads are combined", [
    I32EnumAttrCase<"concat", 0>, I32EnumAttrCase<"average", 1>]>;

def Attn_PositionRelAttr : Attn_StrEnum<"PositionRel",
    "relation `p REL q` between a position p and a reference position q",
    ["le", "lt", "ge", "gt"]>;

#endif // ATTN_ENUMS_TD
