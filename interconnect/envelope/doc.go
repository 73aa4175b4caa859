// Package envelope implements the message envelope of DB4403/T 77-2020 §10
// (inherited from T/CEC 102.4-2016): the request body
// {OperatorID, Data, TimeStamp, Seq, Sig}, the response body
// {Ret, Msg, Data, Sig}, AES-128-CBC/PKCS5 encryption of Data, upper-case
// hex HMAC-MD5 signatures, Ret codes (table 81), TimeStamp/Seq generation and
// a replay guard.
//
// The package is transport-agnostic: it turns business values into envelope
// structs and back, and leaves HTTP and token handling (appendix C) to callers.
//
// The algorithms are fixed by the standard, including a static IV (so equal
// plaintexts encrypt to equal Data) and HMAC-MD5. They are weak by modern
// standards but mandatory for interoperability; use them only behind TLS.
package envelope
