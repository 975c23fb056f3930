/* cmn_version: the one place the release number lives. */
#ifndef CMN_VERSION_H
#define CMN_VERSION_H
#define SPAWNING_VERSION "0.1.0"
#endif
