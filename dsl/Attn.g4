// Grammar of the attnc model language (.attn files). Reference: docs/language.md.
//
// A file is a model (or library) header followed by declarations and definitions. Line breaks
// are not significant: every statement starts with a keyword or with the name it
// defines, and no expression can continue with a name, so statements need no
// separator.
grammar Attn;

file        : header item* EOF ;
header      : kind=('model' | 'library') ID ;

item        : importDecl
            | dimDecl
            | inputDecl
            | paramDecl
            | funcDef
            | decoderDef
            | lossDecl
            | definition
            ;

importDecl  : 'import' STRING ;

// dim D = 64, H = 4      compile-time sizes (overridable with attnc -D NAME=VALUE)
// dim S, T               run-time sizes (sequence lengths: padded and masked)
dimDecl     : 'dim' dimItem (',' dimItem)* ;
dimItem     : ID ('=' dimExpr)? ;
dimExpr     : dimExpr op=('*' | '/') dimExpr      # dimMul
            | dimExpr op=('+' | '-') dimExpr      # dimAdd
            | INT                                 # dimInt
            | ID                                  # dimName
            | '(' dimExpr ')'                     # dimParen
            ;
shape       : '[' (dimExpr (',' dimExpr)*)? ']' ;

// input x : float[S, D]      per example: the batch dimension is implicit
// input src : tokens[S]
// target tgt : tokens[T]     an expected output: read only by the loss
inputDecl   : kind=('input' | 'target') ID ':' elemType=('float' | 'tokens') shape ;

// loss = sum_t cross_entropy(logits[t], tgt[t])     what training minimises, per example
lossDecl    : 'loss' '=' expr ;

// param W : [D, H] ~ xavier          initialiser after '~' (default: xavier / zeros)
paramDecl   : 'param' ID ':' shape ('~' initSpec)? ;
initSpec    : ID ('(' (signedNumber (',' signedNumber)*)? ')')? ;
signedNumber: '-'? number ;

// def score(q, k) = q . k
// def layer_norm(x, g, b) { mu = mean(x)  ...  return ... }
funcDef     : 'def' ID '(' (ID (',' ID)*)? ')'
              ( '=' expr | '{' definition* 'return' expr (',' expr)* '}' ) ;

// decoder(y, s) init zeros(H) {          the step of an autoregressive decoder:
//   output logits = s @ Wo              y the previous output token, s the state
//   return gru(E[y], s, W, U, bi, bh)   (several: decoder(y, h, c) init a, b)
// }
decoderDef  : 'decoder' '(' token=ID (',' states+=ID)* ')'
              'init' inits+=expr (',' inits+=expr)*
              '{' definition* 'return' next+=expr (',' next+=expr)* '}' ;

// name[i, j] = expr      (index variables on the left become the leading axes)
// output y[i] = expr
// h[t] = tanh(x[t] @ U + h[t-1] @ W) for t in S init zeros(H)
// h[t], c[t] = lstm(x[t], h[t-1], c[t-1]) for t in S reversed init zeros(H), zeros(H)
definition  : output='output'? target (',' target)* '=' expr recurrence? ;
target      : ID ('[' ID (',' ID)* ']')? ;
recurrence  : 'for' ID 'in' ID reversed='reversed'? ('init' expr (',' expr)*)? ;

expr        : additive ;
additive    : multiplicative (op+=('+' | '-') multiplicative)* ;
multiplicative : unary (op+=('*' | '/' | '@' | '.') unary)* ;
unary       : '-' unary                                      # negate
            | REDUCE_SUB multiplicative                      # reduceSimple
            | REDUCE_OPEN ID (relation ID)? '}' multiplicative # reduceMasked
            | postfix                                        # unaryPostfix
            ;
relation    : '<' | '<=' | '>' | '>=' ;
postfix     : primary ('[' expr (',' expr)* ']')? ;
primary     : number                                         # numberLit
            | ID '(' (expr (',' expr)*)? ')'                 # call
            | ID                                             # nameRef
            | '(' expr ')'                                   # paren
            ;
number      : INT | FLOAT ;

// sum_j, mean_j, max_j, min_j, softmax_j: a reduction over index j. The reducer
// names are reserved as prefixes: `sum_x` is never a plain name.
REDUCE_SUB  : ('sum' | 'mean' | 'max' | 'min' | 'softmax') '_' [a-zA-Z] [a-zA-Z0-9]* ;
// sum_{j <= i} ...: a reduction with a relational (e.g. causal) mask.
REDUCE_OPEN : ('sum' | 'mean' | 'max' | 'min' | 'softmax') '_{' ;

ID          : [a-zA-Z_] [a-zA-Z0-9_]* '\''* ;
FLOAT       : [0-9]+ '.' [0-9]+ ([eE] [+-]? [0-9]+)?
            | [0-9]+ [eE] [+-]? [0-9]+ ;
INT         : [0-9]+ ;
STRING      : '"' ~["\r\n]* '"' ;
COMMENT     : '#' ~[\r\n]* -> skip ;
WS          : [ \t\r\n]+ -> skip ;
// Anything else is one bad character: the parser reports it with its position.
BAD_CHAR    : . ;
