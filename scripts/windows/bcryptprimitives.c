/*
 * A stand-in bcryptprimitives.dll for running eems-doctor.exe under Wine only.
 *
 * Rust's std (>= 1.78) on *-pc-windows-gnu imports ProcessPrng from
 * bcryptprimitives.dll. Windows 10 / Server 2016 and later have it; Wine 8.0
 * (the only Wine Debian 12 ships) does not, so every Rust binary exits with
 * 53 before main. This DLL exports ProcessPrng by forwarding to RtlGenRandom
 * (SystemFunction036 in advapi32), which Wine does implement.
 *
 * scripts/windows.sh builds it with the mingw gcc and puts it in the Wine
 * prefix's system32, never next to the shipped .exe: a real server uses its
 * own bcryptprimitives.dll.
 */
#include <windows.h>

/* advapi32 exports RtlGenRandom under this name; mingw's headers only
 * declare it through the RtlGenRandom macro, so declare it directly. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* Same contract as Windows' ProcessPrng: fill the buffer, always TRUE.
 * RtlGenRandom takes a ULONG length, so large requests go in chunks. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) {
            /* Windows' ProcessPrng never fails; std aborts on FALSE, which
             * is the honest answer if Wine's RNG ever fails. */
            return FALSE;
        }
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
