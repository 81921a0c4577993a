#include <curl/curl.h>

#include "hret_cli.h"

int main(int argc, char **argv)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return HRET_EXIT_FAILURE;
    }
    int status = hret_cli_main(argc, argv);
    curl_global_cleanup();
    return status;
}
