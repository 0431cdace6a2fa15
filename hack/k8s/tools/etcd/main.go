// Command etcd is the etcd server, built inside the helper module because
// go.etcd.io/etcd/server/v3 carries replace directives (so `go install` of it
// fails). The version comes from k8s.io/apiserver's requirement (see go.mod).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
