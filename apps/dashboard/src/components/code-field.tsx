import { type ClipboardEvent } from 'react';
import { codeDigits } from '@/lib/one-time-code';

/**
 * A 6-digit one-time code: the browser may fill it from the mail (`autocomplete="one-time-code"`), phones show
 * the number pad, and a pasted "123 456", "123-456" or "Your code: 123456" keeps only its digits.
 */
export function CodeField({
  id,
  label,
  value,
  onChange,
  invalid,
  describedBy,
  autoFocus,
  className = 'auth-field',
}: {
  id: string;
  label: string;
  value: string;
  onChange: (code: string) => void;
  invalid?: boolean;
  describedBy?: string;
  autoFocus?: boolean;
  className?: string;
}) {
  const paste = (e: ClipboardEvent<HTMLInputElement>) => {
    const text = e.clipboardData.getData('text');
    if (!text) return;
    e.preventDefault();
    onChange(codeDigits(text));
  };
  return (
    <div className={className}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name="code"
        className="code-input"
        type="text"
        inputMode="numeric"
        autoComplete="one-time-code"
        pattern="[0-9]{6}"
        placeholder="6 digits"
        required
        spellCheck={false}
        value={value}
        onChange={(e) => onChange(codeDigits(e.target.value))}
        onPaste={paste}
        aria-invalid={invalid || undefined}
        aria-describedby={describedBy}
        autoFocus={autoFocus}
      />
    </div>
  );
}
