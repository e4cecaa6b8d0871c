#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# gen-insn-vectors.sh [OUT]: the decoder's and emulator's test vectors
# (insn_vectors.h, next to this script by default).  Writes thousands of
# memory-operand instructions in 16-, 32- and 64-bit code, every one with
# what it is known to be (operand and address size, memory access, segment,
# base, index, scale, displacement), has GNU as encode them, and reads each
# encoding back from the object file between labels (nm, objcopy).  The
# expectations come from this script, never from the decoder under test.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/insn_vectors.h}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
# emit MODE ASM OP_BYTES ADDR_BYTES ACCESS MEM_BYTES KIND SEG BASE INDEX
#      SCALE DISP REG: one vector.  KIND: m (ModRM memory), o (moffs), s
#      (string).  REG: ModRM.reg as encoded with REX.R, or -1.
emit() {
	echo "v$n: $2" >> "$tmp/v.s"
	local IFS="|"
	echo "$n|$*" >> "$tmp/meta"
	n=$((n + 1))
}

# Register operands: name and number, rotated through per size.
regs64_1=(cl:1 ah:4 sil:6 r9b:9 dl:2 r14b:14)
regs64_2=(cx:1 r10w:10 bp:5 ax:0)
regs64_4=(ecx:1 edi:7 r11d:11 edx:2)
regs64_8=(rcx:1 r12:12 rsp:4 r15:15)
regs_1=(cl:1 ah:4 bh:7 dl:2)
regs_2=(cx:1 bp:5 ax:0 si:6)
regs_4=(ecx:1 edi:7 ebx:3 edx:2)

# pick_reg MODE SIZE I: "name:number" of a register of SIZE bytes.
pick_reg() {
	local arr=regs_$2

	[ "$1" = 64 ] && arr=regs64_$2
	local -n list=$arr
	echo "${list[$(($3 % ${#list[@]}))]}"
}

# Addressing forms: ASM|SEG|BASE|INDEX|SCALE|DISP|ADDR_BYTES.
# Registers by number (rAX 0 ... r15 15), 16 = RIP, -1 = none.
forms64=(
	"(%rax)|DS|0|-1|1|0|8"
	"(%rsp)|SS|4|-1|1|0|8"
	"(%rbp)|SS|5|-1|1|0|8"
	"(%r12)|DS|12|-1|1|0|8"
	"(%r13)|DS|13|-1|1|0|8"
	"0x7f(%rcx)|DS|1|-1|1|0x7f|8"
	"-0x80(%rdx)|DS|2|-1|1|-0x80|8"
	"0x12345678(%rsi)|DS|6|-1|1|0x12345678|8"
	"-0x1000(%r15)|DS|15|-1|1|-0x1000|8"
	"(%rax,%rbx,1)|DS|0|3|1|0|8"
	"8(%rcx,%rdx,2)|DS|1|2|2|8|8"
	"0x100(%r8,%r9,4)|DS|8|9|4|0x100|8"
	"-4(%rsp,%rbp,8)|SS|4|5|8|-4|8"
	"(%rbp,%r12,8)|SS|5|12|8|0|8"
	"(%r13,%r14,2)|DS|13|14|2|0|8"
	"0x1000(,%rcx,4)|DS|-1|1|4|0x1000|8"
	"0x12345678|DS|-1|-1|1|0x12345678|8"
	"-0x10|DS|-1|-1|1|-0x10|8"
	"0x10(%rip)|DS|16|-1|1|0x10|8"
	"-0x20(%rip)|DS|16|-1|1|-0x20|8"
	"%fs:0x10(%rip)|FS|16|-1|1|0x10|8"
	"%gs:8(%rax,%rcx,4)|GS|0|1|4|8|8"
	"%fs:(%rbx)|FS|3|-1|1|0|8"
	"%es:(%rdi)|ES|7|-1|1|0|8"
	"%ss:(%rax)|SS|0|-1|1|0|8"
	"%ds:(%rbp)|DS|5|-1|1|0|8"
	"%cs:0x30(%rsi)|CS|6|-1|1|0x30|8"
	"(%eax)|DS|0|-1|1|0|4"
	"4(%ebx,%ecx,2)|DS|3|1|2|4|4"
	"0x10(%eip)|DS|16|-1|1|0x10|4"
	"(%r8d)|DS|8|-1|1|0|4"
	"-8(%esp)|SS|4|-1|1|-8|4"
	"%gs:0x40(%r10d,%r11d,8)|GS|10|11|8|0x40|4"
)
forms16bit=(
	"(%bx,%si)|DS|3|6|1|0|2"
	"2(%bp,%di)|SS|5|7|1|2|2"
	"-2(%bx,%di)|DS|3|7|1|-2|2"
	"(%si)|DS|6|-1|1|0|2"
	"0x10(%di)|DS|7|-1|1|0x10|2"
	"0x1234(%bp)|SS|5|-1|1|0x1234|2"
	"(%bx)|DS|3|-1|1|0|2"
	"0x1234|DS|-1|-1|1|0x1234|2"
	"%es:(%bp,%si)|ES|5|6|1|0|2"
	"0x7f(%bp,%si)|SS|5|6|1|0x7f|2"
	"%fs:-0x7000(%bx)|FS|3|-1|1|-0x7000|2"
)
forms32bit=(
	"(%eax)|DS|0|-1|1|0|4"
	"(%esp)|SS|4|-1|1|0|4"
	"(%ebp)|SS|5|-1|1|0|4"
	"0x7f(%ecx)|DS|1|-1|1|0x7f|4"
	"-0x80(%edx)|DS|2|-1|1|-0x80|4"
	"0x12345678(%esi)|DS|6|-1|1|0x12345678|4"
	"(%eax,%ebx,1)|DS|0|3|1|0|4"
	"8(%ecx,%edx,2)|DS|1|2|2|8|4"
	"-4(%esp,%ebp,8)|SS|4|5|8|-4|4"
	"(%ebp,%esi,4)|SS|5|6|4|0|4"
	"0x1000(,%ecx,4)|DS|-1|1|4|0x1000|4"
	"0x12345678|DS|-1|-1|1|0x12345678|4"
	"%fs:4(%eax)|FS|0|-1|1|4|4"
	"%gs:(%ebx,%ecx,1)|GS|3|1|1|0|4"
	"%es:(%edi)|ES|7|-1|1|0|4"
	"%ss:(%eax)|SS|0|-1|1|0|4"
)
# A bare address takes the code's address size: addr16 and addr32 (an
# eighth field, a prefix for the instruction) ask for the other one.
forms32=("${forms32bit[@]}" "${forms16bit[@]/%0x1234|DS|-1|-1|1|0x1234|2/0x1234|DS|-1|-1|1|0x1234|2|addr16 }")
forms16=("${forms16bit[@]}" "${forms32bit[@]/%0x12345678|DS|-1|-1|1|0x12345678|4/0x12345678|DS|-1|-1|1|0x12345678|4|addr32 }")

# Templates: ASM|ACCESS, ASM with M for the memory operand, R for a
# register of the operand size and X for the size suffix; each is made in
# every operand size (1, 2, 4, and 8 in 64-bit mode).
templates=(
	"mov R, M|W" "mov M, R|R" "movX \$0x5a, M|W"
	"test R, M|R" "testX \$0x81, M|R"
	"xchg R, M|RW" "lock xchg R, M|RW"
	"notX M|RW" "negX M|RW" "lock negX M|RW"
	"lock add R, M|RW" "lock subX \$0x7, M|RW"
)
for op in add or adc sbb and sub xor cmp; do
	acc=RW
	[ $op = cmp ] && acc=R
	templates+=("$op R, M|$acc" "$op M, R|R" "${op}X \$0x12, M|$acc"
		    "${op}X \$-0x3, M|$acc" "${op}X \$0x1234, M|$acc")
done
# MOVZX, MOVSX: mnemonic|destination size|source size.  movzww and movsww
# (0x66 on a 32-bit MOVZX/MOVSX) have no mnemonic of their own.
movx=(
	"movzbw|2|1" "movzbl|4|1" "movzwl|4|2" "movsbw|2|1" "movsbl|4|1"
	"movswl|4|2" "movzww|2|2" "movsww|2|2"
)
movx64=("movzbq|8|1" "movzwq|8|2" "movsbq|8|1" "movswq|8|2" "movslq|8|4")

suffix() {
	case $1 in 1) echo b ;; 2) echo w ;; 4) echo l ;; 8) echo q ;; esac
}

# gen_mode MODE FORMS...: each template in each size with a fifth of the
# forms, rotating, so that every template meets every kind of form.
gen_mode() {
	local mode=$1 sizes="1 2 4" ti=0 fi f t asm acc size m r name num x
	local fasm seg base index scale disp ad pfx mn dst src
	shift
	local forms=("$@") list=("${movx[@]}")

	[ "$mode" = 64 ] && sizes="1 2 4 8" list+=("${movx64[@]}")
	echo ".code$mode" >> "$tmp/v.s"
	for t in "${templates[@]}"; do
		IFS='|' read -r asm acc <<< "$t"
		ti=$((ti + 1))
		for size in $sizes; do
			[ "$size" = 1 ] && [[ $asm =~ 0x1234 ]] && continue
			fi=0
			for f in "${forms[@]}"; do
				fi=$((fi + 1))
				[ $(((fi + ti + size) % 5)) = 0 ] || continue
				IFS='|' read -r fasm seg base index scale disp ad pfx <<< "$f"
				r=$(pick_reg "$mode" "$size" $((fi + ti)))
				name=${r%%:*} num=${r##*:}
				# AH to BH cannot be encoded with a REX prefix.
				if [ "$mode" = 64 ] && [[ $name =~ ^[a-d]h$ ]] &&
				   [[ $fasm =~ %r[0-9] ]]; then
					name=cl num=1
				fi
				m=${asm//X/$(suffix "$size")}
				if [[ $m =~ R ]]; then
					m=${m/R/%$name}
				else
					num=-1
				fi
				emit "$mode" "$pfx${m/M/$fasm}" "$size" "$ad" "$acc" \
				     "$size" m "$seg" "$base" "$index" "$scale" \
				     "$disp" "$num"
			done
		done
	done
	for x in "${list[@]}"; do
		IFS='|' read -r mn dst src <<< "$x"
		fi=0
		for f in "${forms[@]}"; do
			fi=$((fi + 1))
			[ $(((fi + dst + src) % 2)) = 0 ] || continue
			IFS='|' read -r fasm seg base index scale disp ad pfx <<< "$f"
			case $mn in
			movzww|movsww)
				# In 16-bit code 0x66 would make it 32 bits wide.
				[ "$mode" = 16 ] && continue
				r=$(pick_reg "$mode" 4 "$fi")
				m=".byte 0x66; $pfx${mn%w}l $fasm, %${r%%:*}" ;;
			*)
				r=$(pick_reg "$mode" "$dst" "$fi")
				m="$pfx$mn $fasm, %${r%%:*}" ;;
			esac
			emit "$mode" "$m" "$dst" "$ad" R "$src" m "$seg" "$base" \
			     "$index" "$scale" "$disp" "${r##*:}"
		done
	done
}

gen_moffs() {
	local mode=$1 size ad addr m acc a
	for size in 1 2 4 8; do
		[ "$size" = 8 ] && [ "$mode" != 64 ] && continue
		local reg
		case $size in 1) reg=al ;; 2) reg=ax ;; 4) reg=eax ;; 8) reg=rax ;; esac
		for ad in 2 4 8; do
			local pfx=""
			case $mode:$ad in
			64:8) addr=0x1234567812345678 ;;
			64:4) addr=0x87654321 pfx="addr32 " ;;
			32:4) addr=0x87654321 ;;
			32:2) addr=0x1234 pfx="addr16 " ;;
			16:2) addr=0xfedc ;;
			16:4) addr=0x12345678 pfx="addr32 " ;;
			*) continue ;;
			esac
			for a in load store fsload; do
				local op=mov seg=DS sp=""
				[ "$mode" = 64 ] && op=movabs
				[ $a = fsload ] && seg=FS sp="%fs:"
				if [ $a = store ]; then
					m="$pfx$op %$reg, $sp$addr" acc=W
				else
					m="$pfx$op $sp$addr, %$reg" acc=R
				fi
				emit "$mode" "$m" "$size" "$ad" "$acc" "$size" o \
				     "$seg" -1 -1 1 "$addr" -1
			done
		done
	done
}

gen_strings() {
	local mode=$1 size ad s insn rep seg sp acc
	for size in 1 2 4 8; do
		[ "$size" = 8 ] && [ "$mode" != 64 ] && continue
		s=$(suffix "$size")
		for ad in 2 4 8; do
			local pfx="" si=si di=di
			case $mode:$ad in
			64:8) si=rsi di=rdi ;;
			64:4) si=esi di=edi pfx="addr32 " ;;
			32:4) si=esi di=edi ;;
			32:2) pfx="addr16 " ;;
			16:2) ;;
			16:4) si=esi di=edi pfx="addr32 " ;;
			*) continue ;;
			esac
			for insn in movs stos lods; do
				for rep in "" "rep " "repne "; do
					for seg in DS GS; do
						sp=""
						[ $seg = GS ] && sp="%gs:"
						case $insn in
						movs) m="$pfx${rep}movs$s $sp(%$si), %es:(%$di)" acc=RW ;;
						stos) [ $seg = GS ] && continue
						      m="$pfx${rep}stos$s %es:(%$di)" acc=W ;;
						lods) m="$pfx${rep}lods$s $sp(%$si)" acc=R ;;
						esac
						emit "$mode" "$m" "$size" "$ad" "$acc" "$size" s \
						     "$seg" -1 -1 1 0 -1
					done
				done
			done
		done
	done
}

: > "$tmp/v.s"
: > "$tmp/meta"
gen_mode 64 "${forms64[@]}"
gen_moffs 64
gen_strings 64
gen_mode 32 "${forms32[@]}"
gen_moffs 32
gen_strings 32
gen_mode 16 "${forms16[@]}"
gen_moffs 16
gen_strings 16
echo "vend:" >> "$tmp/v.s"

as --64 -o "$tmp/v.o" "$tmp/v.s"
objcopy -O binary -j .text "$tmp/v.o" "$tmp/v.bin"
nm -n "$tmp/v.o" | awk '$3 ~ /^v/ { print $1, substr($3, 2) }' > "$tmp/syms"
od -An -v -tx1 "$tmp/v.bin" | tr -s ' \n' '\n\n' | sed '/^$/d' > "$tmp/bytes"

{
	echo "/* SPDX-License-Identifier: GPL-2.0 */"
	echo "/*"
	echo " * Generated by gen-insn-vectors.sh with $(as --version | head -1)."
	echo " * Do not edit: run the script again."
	echo " */"
	echo "const struct insn_vector insn_vectors[] = {"
	awk -F'|' '
		function hex(s,  i, v) {
			for (i = 1; i <= length(s); i++)
				v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
			return v
		}
		FILENAME == ARGV[1] { byte[NR - 1] = $0; next }
		FILENAME == ARGV[2] { split($0, f, " "); off[f[2]] = hex(f[1]); next }
		{
			i = $1; start = off[i]
			end = (i + 1) in off ? off[i + 1] : off["end"]
			s = ""
			for (b = start; b < end; b++)
				s = s "\\x" byte[b]
			asm = $3
			gsub(/\\/, "\\\\", asm); gsub(/"/, "\\\"", asm)
			printf "\t{ %s, %d, %s, %s, V_%s, %s, V_%s, HVK_SREG_%s,\n",
				$2, end - start, $4, $5, $6, $7, toupper($8), $9
			printf "\t  %s, %s, %s, %s, %s, \"%s\",\n", $10, $11, $12,
				$13, $14, asm
			printf "\t  \"%s\" },\n", s
		}
	' "$tmp/bytes" "$tmp/syms" "$tmp/meta"
	echo "};"
	echo
	echo "const unsigned int nr_insn_vectors = ARRAY_SIZE(insn_vectors);"
} > "$out"
echo "$n vectors in $out" >&2
