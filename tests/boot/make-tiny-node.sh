#!/usr/bin/env bash
# Makes the tiny rootfs of the image and boot tests: busybox-static, Debian's
# kernel (downloaded once with apt-get into CACHE and unpacked with dpkg-deb),
# and an initramfs that loads the virtio, ext4 and iso9660 modules and the
# SATA CD (AHCI, sr_mod: where the executor's libvirt domains get their
# NoCloud seed), mounts the root by label and switches to it. The image
# builder then adds hardening and the first-boot agent, as for the full
# Debian image.
#   tests/boot/make-tiny-node.sh CACHE OUT   -> OUT/rootfs (with /boot/vmlinuz, /boot/initrd.img)
set -euo pipefail
cache=$1 out=$2
mkdir -p "$cache" "$out"
cache=$(cd "$cache" && pwd) out=$(cd "$out" && pwd)
bash "$(dirname "$0")/fetch-kernel.sh" "$cache" >/dev/null
mods=$(ls -d "$cache"/kernel/lib/modules/*/kernel)
order="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev
  drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci drivers/block/virtio_blk lib/crc16 fs/mbcache
  fs/jbd2/jbd2 crypto/crc32c_generic fs/ext4/ext4 drivers/cdrom/cdrom fs/isofs/isofs
  drivers/scsi/scsi_common drivers/scsi/scsi_mod drivers/ata/libata drivers/ata/libahci drivers/ata/ahci
  drivers/scsi/sr_mod"

rm -rf "$out/rootfs" "$out/initramfs"
# initramfs
mkdir -p "$out/initramfs"/{bin,lib/modules,dev,proc,sys,newroot}
cp /bin/busybox "$out/initramfs/bin/busybox"
for m in $order; do cp "$mods/$m.ko" "$out/initramfs/lib/modules/"; done
{
  echo '#!/bin/busybox sh'
  echo '/bin/busybox --install -s /bin'
  echo 'mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev'
  for m in $order; do echo "insmod /lib/modules/$(basename "$m").ko"; done
  echo 'for i in $(seq 1 50); do root=$(findfs LABEL=root 2>/dev/null) && break; sleep 0.2; done'
  echo 'mount -t ext4 "$root" /newroot || { echo "initramfs: no root file system"; sh; }'
  echo 'umount /proc /sys; mount --move /dev /newroot/dev 2>/dev/null'
  echo 'exec switch_root /newroot /sbin/init'
} >"$out/initramfs/init"
chmod 755 "$out/initramfs/init"
# rootfs
mkdir -p "$out/rootfs"/{bin,sbin,etc,proc,sys,dev,run,tmp,boot,home/slipway}
cp /bin/busybox "$out/rootfs/bin/busybox"
ln -s busybox "$out/rootfs/bin/sh"
cat >"$out/rootfs/sbin/init" <<'INIT'
#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev 2>/dev/null; mkdir -p /run
/usr/lib/slipway/firstboot && /usr/lib/slipway/node-setup
sleep 2
poweroff -f
INIT
chmod 755 "$out/rootfs/sbin/init"
echo "root:x:0:0:root:/root:/bin/sh" >"$out/rootfs/etc/passwd"
cp "$(ls "$cache"/kernel/boot/vmlinuz-* | head -n 1)" "$out/rootfs/boot/vmlinuz"
(cd "$out/initramfs" && find . -exec touch -h -d @0 {} + && find . | LC_ALL=C sort | busybox cpio -o -H newc 2>/dev/null | gzip -n -9) \
  >"$out/rootfs/boot/initrd.img"
echo "$out/rootfs"
