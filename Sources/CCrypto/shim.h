// OpenSSL's libcrypto: SHA-256 for checkpoint digests and the build identity.
#include <openssl/sha.h>
