// Print a stack's subjects and diagnose a token through libpulumi_azure_oidc (cgo).
//
//	cargo build -p pulumi-azure-oidc-capi
//	ln -sf libpulumi_azure_oidc.so target/debug/libpulumi_azure_oidc.so.0   # its soname
//	CGO_CFLAGS=-I$PWD/bindings/c/include \
//	CGO_LDFLAGS="-L$PWD/target/debug -Wl,-rpath,$PWD/target/debug -lpulumi_azure_oidc" \
//	  go run ./bindings/c/examples/go contoso core dev
package main

/*
#include <stdlib.h>
#include "pulumi_azure_oidc.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
	"unsafe"
)

// call runs one paoidc_ function and turns its status and output into Go values;
// the library's string is copied and freed here, so Go code never holds it.
func call(f func(out **C.char) C.paoidc_status) (string, error) {
	var out *C.char
	status := f(&out)
	defer C.paoidc_string_free(out)
	if status != C.PAOIDC_STATUS_OK {
		return "", fmt.Errorf("%s (%d): %s", C.GoString(C.paoidc_status_str(C.int32_t(status))), int(status),
			C.GoString(C.paoidc_last_error_message()))
	}
	return C.GoString(out), nil
}

func main() {
	org, project, stack := "contoso", "core", "dev"
	if len(os.Args) == 4 {
		org, project, stack = os.Args[1], os.Args[2], os.Args[3]
	}
	spec, _ := json.Marshal(map[string]string{"kind": "deployment", "org": org, "project": project, "stack": stack})
	cspec := C.CString(string(spec))
	defer C.free(unsafe.Pointer(cspec))

	text, err := call(func(out **C.char) C.paoidc_status { return C.paoidc_credentials(cspec, out) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	var result struct {
		Credentials []struct {
			Name      string   `json:"name"`
			Issuer    string   `json:"issuer"`
			Subject   string   `json:"subject"`
			Audiences []string `json:"audiences"`
		} `json:"credentials"`
	}
	if err := json.Unmarshal([]byte(text), &result); err != nil {
		panic(err)
	}
	for _, c := range result.Credentials {
		fmt.Println(c.Subject)
	}

	// An unsigned example token for the update operation, checked against those credentials.
	token := "eyJhbGciOiJSUzI1NiJ9." +
		"eyJpc3MiOiJodHRwczovL2FwaS5wdWx1bWkuY29tL29pZGMiLCJzdWIiOiJwdWx1bWk6ZGVwbG95Om9yZzpjb250b3NvOnByb2plY3Q6Y29yZTpzdGFjazpkZXY6b3BlcmF0aW9uOnVwZGF0ZTpzY29wZTp3cml0ZSIsImF1ZCI6ImNvbnRvc28iLCJleHAiOjQxMDI0NDQ4MDB9" +
		".c2ln"
	ctoken := C.CString(token)
	defer C.free(unsafe.Pointer(ctoken))
	list, _ := json.Marshal(result.Credentials)
	clist := C.CString(string(list))
	defer C.free(unsafe.Pointer(clist))
	text, err = call(func(out **C.char) C.paoidc_status {
		return C.paoidc_diagnose_token(ctoken, clist, C.int64_t(time.Now().Unix()), out)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	var d struct {
		Verdict string `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(text), &d); err != nil {
		panic(err)
	}
	fmt.Println(d.Verdict)
}
