/* A stand-in for the Windows tools Wine lacks (powershell.exe, wevtutil.exe),
 * for `scripts/windows.sh test` only; never shipped.
 *
 * It records the arguments exactly as the Windows C runtime split them
 * (what the real tool would receive), one line per call in
 * %EEMS_STANDIN_LOG%: the tool name, then each argument, separated by TAB.
 * Then it prints a canned output from %EEMS_STANDIN_DIR% chosen by what the
 * command asks for, or fails like a tool that has nothing to say.
 *
 * The tool is its own file name (wevtutil.exe), or %EEMS_STANDIN_AS% when a
 * .cmd stand-in calls it (powershell.cmd). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>

static const struct {
    const char *needle;
    const char *file;
} OUTPUTS[] = {
    {"Get-ExchangeServer", "get-exchangeserver-fl.txt"},
    {"Get-OrganizationConfig", "get-organizationconfig-fl.txt"},
    {"Get-Service", "get-service.txt"},
    {"FileVersionInfo", "exsetup-version.txt"},
    {"/q:", "events-mitigation.xml"},
};

int wmain(int argc, wchar_t **argv) {
    char tool[MAX_PATH] = "";
    const char *as = getenv("EEMS_STANDIN_AS");
    if (as && *as) {
        snprintf(tool, sizeof tool, "%s", as);
    } else {
        const wchar_t *base = wcsrchr(argv[0], L'\\');
        base = base ? base + 1 : argv[0];
        WideCharToMultiByte(CP_UTF8, 0, base, -1, tool, sizeof tool, NULL, NULL);
        char *dot = strrchr(tool, '.');
        if (dot) *dot = 0;
    }
    char args[32768] = "";
    size_t used = 0;
    for (int i = 1; i < argc; i++) {
        char a[8192];
        WideCharToMultiByte(CP_UTF8, 0, argv[i], -1, a, sizeof a, NULL, NULL);
        used += snprintf(args + used, sizeof args - used, "\t%s", a);
        if (used >= sizeof args) break;
    }
    const char *log = getenv("EEMS_STANDIN_LOG");
    if (log && *log) {
        FILE *f = fopen(log, "ab");
        if (f) {
            fprintf(f, "%s%s\n", tool, args);
            fclose(f);
        }
    }
    const char *dir = getenv("EEMS_STANDIN_DIR");
    for (size_t i = 0; dir && i < sizeof OUTPUTS / sizeof OUTPUTS[0]; i++) {
        if (!strstr(args, OUTPUTS[i].needle)) continue;
        char path[MAX_PATH];
        snprintf(path, sizeof path, "%s\\%s", dir, OUTPUTS[i].file);
        FILE *f = fopen(path, "rb");
        if (!f) break;
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
        fclose(f);
        return 0;
    }
    fprintf(stderr, "%s: the stand-in has no output for this command\n", tool);
    return 1;
}
