import { useId, type Ref } from 'react';
import { Icon } from './icons';

export interface SearchFilters {
  unread: boolean;
  flagged: boolean;
  hasAttachments: boolean;
  /** 'any' or a number of days back */
  within: 'any' | '7' | '30' | '365';
}

export const NO_FILTERS: SearchFilters = {
  unread: false,
  flagged: false,
  hasAttachments: false,
  within: 'any',
};

export function activeFilterCount(f: SearchFilters): number {
  return [f.unread, f.flagged, f.hasAttachments, f.within !== 'any'].filter(Boolean).length;
}

interface Props {
  text: string;
  onText: (text: string) => void;
  filters: SearchFilters;
  onFilters: (filters: SearchFilters) => void;
  inputRef: Ref<HTMLInputElement>;
}

/**
 * The search box (full text over subject, sender and body, in every folder; `/` focuses it) and the filters (unread,
 * flagged, with attachments, received since), which narrow the folder shown or the search results.
 */
export function SearchBar({ text, onText, filters, onFilters, inputRef }: Props) {
  const id = useId();
  const toggle = (key: 'unread' | 'flagged' | 'hasAttachments', label: string) => (
    <button
      type="button"
      className={`mail-chip${filters[key] ? ' mail-chip-on' : ''}`}
      aria-pressed={filters[key]}
      onClick={() => onFilters({ ...filters, [key]: !filters[key] })}
    >
      {label}
    </button>
  );
  return (
    <div className="mail-search">
      <form role="search" className="mail-search-box" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor={`${id}-q`} className="mail-visually-hidden">
          Search mail
        </label>
        <span className="mail-search-icon">
          <Icon name="search" size={15} />
        </span>
        <input
          ref={inputRef}
          id={`${id}-q`}
          type="search"
          placeholder="Search mail  ( / )"
          value={text}
          onChange={(e) => onText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              onText('');
              e.currentTarget.blur();
            }
          }}
          autoComplete="off"
        />
      </form>
      <div className="mail-filters" role="group" aria-label="Filters">
        {toggle('unread', 'Unread')}
        {toggle('flagged', 'Flagged')}
        {toggle('hasAttachments', 'Attachments')}
        <select
          aria-label="Received"
          value={filters.within}
          onChange={(e) => onFilters({ ...filters, within: e.target.value as SearchFilters['within'] })}
        >
          <option value="any">Any time</option>
          <option value="7">Past week</option>
          <option value="30">Past month</option>
          <option value="365">Past year</option>
        </select>
      </div>
    </div>
  );
}
