#ifndef INFERMESH_CLIBCRYPTO_SHIM_H
#define INFERMESH_CLIBCRYPTO_SHIM_H

/* OpenSSL's libcrypto, for SHA-256 only: a system library builds in no time, where swift-crypto compiled
   BoringSSL from source (about half of a cold build on 2 cores). */
#include <openssl/evp.h>

#endif
